import Testing

/// The suites that open sockets, nested here so they run one at a time: their memory and
/// descriptor figures are of this whole process.
@Suite(.serialized) enum SocketSuites {}
