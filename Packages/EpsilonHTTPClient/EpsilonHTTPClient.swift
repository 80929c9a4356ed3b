// EpsilonHTTPClient: the HTTP/1.1 and HTTP/2 client (pool, retries, redirects, cookies,
// streaming) on the machines and EpsilonTransport.
