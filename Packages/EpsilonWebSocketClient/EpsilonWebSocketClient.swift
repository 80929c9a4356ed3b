// The WebSocket client (issue 18): connect, reconnect with backoff, queueing while
// disconnected, heartbeat. Built on EpsilonHTTPClient's connection and TLS set-up.
