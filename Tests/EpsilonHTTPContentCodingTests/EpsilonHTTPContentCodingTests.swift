// EpsilonHTTPContentCodingTests: Swift Testing suites for EpsilonHTTPContentCoding.
