// EpsilonHTTPServerTests: Swift Testing suites for EpsilonHTTPServer.
