// EpsilonHTTPServerLifecycle: runs an EpsilonHTTPServer as a swift-service-lifecycle Service.
