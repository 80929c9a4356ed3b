import EpsilonTransport

/// The socket as the HTTP/2 session sees it: a write queue it appends to, whether that queue
/// is below its high watermark, and a close. ``Connection`` is one; tests and the fuzzer use an
/// in-memory one, so the session runs without a socket.
protocol HTTP2SessionIO: AnyObject {
    /// Lets `body` append bytes to the write queue's tail (it must only append).
    func write(_ body: (inout [UInt8]) -> Void)
    /// Whether the write queue is below its high watermark: response DATA is produced only
    /// while it is, so a peer that does not read holds at most a watermark of our memory.
    var isWritable: Bool { get }
    /// Closes once what was queued is written.
    func closeAfterFlush()
}

extension Connection: HTTP2SessionIO {}
