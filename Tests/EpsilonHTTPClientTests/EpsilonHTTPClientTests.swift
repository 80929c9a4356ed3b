// EpsilonHTTPClientTests: Swift Testing suites for EpsilonHTTPClient.
