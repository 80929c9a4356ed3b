/// Immutable bytes that many connections can queue without copying them
/// (``Connection/write(shared:completion:)``): each connection's write queue keeps a reference
/// and points its gathered `sendmsg` (or its io_uring send) straight at this memory, so a
/// message broadcast to a thousand connections exists once.
///
/// The bytes are copied in once, at creation, and never change; the memory is freed when the
/// last connection that queued it has written it (or closed) and the creator has let go.
/// Safe to share across threads and loops.
///
/// ```swift
/// let frame = ConnectionSharedBytes(copying: encodedFrame)
/// for connection in members { connection.write(shared: frame) }   // on each one's loop
/// ```
public final class ConnectionSharedBytes: @unchecked Sendable {
    // Unchecked: `base` is written only in `init` and read-only afterwards.
    /// The first byte (valid while this object lives).
    let base: UnsafeMutableRawPointer
    /// The number of bytes.
    public let count: Int

    /// `count` bytes that `body` writes once, in place (it must set every byte), for an
    /// encoder that produces the message straight into the shared memory.
    public init(count: Int, initializingWith body: (UnsafeMutableRawBufferPointer) -> Void) {
        self.count = max(count, 0)
        base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
        body(UnsafeMutableRawBufferPointer(start: base, count: self.count))
    }

    /// A copy of `bytes`.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count) { target in
            if bytes.count > 0 { target.copyMemory(from: bytes) }
        }
    }

    /// A copy of `bytes`.
    public convenience init(_ bytes: [UInt8]) {
        self.init(count: bytes.count) { target in
            bytes.withUnsafeBytes { if $0.count > 0 { target.copyMemory(from: $0) } }
        }
    }

    /// Calls `body` with the bytes, valid for the call.
    public func withUnsafeBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result {
        try body(bytes)
    }

    /// The bytes, valid while this object lives.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    deinit {
        base.deallocate()
    }
}
