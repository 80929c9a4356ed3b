// EpsilonHTTPServer: the HTTP/1.1 and HTTP/2 server (routing, middleware, limits, shutdown) on
// the machines and EpsilonTransport.
