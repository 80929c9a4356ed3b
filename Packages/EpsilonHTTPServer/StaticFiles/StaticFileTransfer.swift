// Sends a file's bytes (or one range of them) as a response body, in bounded reads on the
// loop thread: each read is at most `chunkSize` bytes and at most what the session says it
// can take now (`writableBytes`: the socket's write-queue room on HTTP/1.1, with or without
// TLS; the stream's bounded buffer under HTTP/2 flow control). At 0 it stops and waits for
// `responseWritable()`, so a slow client never makes the server read ahead: per transfer at
// most one chunk plus the session's own bound is in memory, whatever the file's size.
//
// A pump sends at most `chunksPerTurn` chunks, then queues the next pump on the loop's
// executor: one big file does not hold the loop, and the first pump (inside the session's
// `receive`, where its output waits in the machine until the call ends and so does not yet
// count against the socket's watermark) sends a single chunk.
//
// Zero-copy: where the session can (cleartext HTTP/1.1 on a readiness loop, outside its
// `receive`), the rest of the body is handed down as one file region sent with sendfile(2),
// at the pace the kernel's socket buffer takes it; no byte of it passes through user space.
// The transport reports each partial send, so the session's stall timer sees a slow reader's
// progress whatever the region's size.

/// One file body on its way out; the session holds it as the exchange of its request.
/// `@unchecked Sendable` only so that the executor's closure can carry it back: every use is
/// on the connection's loop thread (the session's calls, and the executor runs there too).
final class StaticFileTransfer: HTTPServerExchange, @unchecked Sendable {
    private let file: StaticOpenFile
    private let sink: any HTTPResponseSink
    private let id: HTTPExchangeID
    private let chunkSize: Int
    private var offset: UInt64
    private var remaining: UInt64
    private var buffer: UnsafeMutableRawBufferPointer?
    private var isFinished = false
    private var isPumping = false
    private var pumpScheduled = false
    /// A file region is under way (the session owns the descriptor until it completes).
    private var awaitingRegion = false
    /// Chunks per pump once the first one went out (reads on the loop thread stay bounded).
    static let chunksPerTurn = 4

    init(file: StaticOpenFile, range: ClosedRange<UInt64>?, sink: any HTTPResponseSink, id: HTTPExchangeID, chunkSize: Int) {
        self.file = file
        self.sink = sink
        self.id = id
        self.chunkSize = max(chunkSize, 1024)
        if let range {
            offset = range.lowerBound
            remaining = range.upperBound - range.lowerBound + 1
        } else {
            offset = 0
            remaining = file.info.size
        }
    }

    /// Sends what the session takes now, up to `chunks` chunks; true once the whole body and
    /// its end went out. With room left after `chunks`, the next pump is queued on the loop.
    @discardableResult
    func pump(chunks: Int = StaticFileTransfer.chunksPerTurn) -> Bool {
        guard !isFinished, !isPumping, !awaitingRegion else { return isFinished }
        if remaining > 0, file.descriptor >= 0, sink.canSendFileRegion(id) {
            // The rest of the body in one region; the connection takes (and closes) the descriptor.
            let count = remaining
            if sink.sendFileRegion(id, descriptor: file.descriptor, offset: offset, count: count,
                                   completion: { [self] sent in regionFinished(count: count, sent: sent) }) {
                file.relinquish()
                awaitingRegion = true
                return false
            }
        }
        isPumping = true
        defer { isPumping = false }
        var budget = chunks
        while remaining > 0 {
            guard budget > 0 else {
                schedulePump()
                return false
            }
            budget -= 1
            let room = sink.writableBytes(id)
            guard room > 0 else { return false }
            let count = Int(min(UInt64(min(room, chunkSize)), remaining))
            let buffer = self.buffer ?? allocateBuffer()
            let got = file.read(into: buffer.baseAddress!, count: count, at: offset)
            guard got > 0 else {
                // The file shrank or failed under us: the client must not take a short body as whole.
                finish()
                sink.reset(id)
                return true
            }
            offset += UInt64(got)
            remaining -= UInt64(got)
            sink.sendBody(id, UnsafeRawBufferPointer(rebasing: buffer[..<got]))
            if isFinished { return true }  // aborted from inside sendBody
        }
        finish()
        sink.sendEnd(id, trailers: [])
        return true
    }

    /// The file region went out (or the connection closed under it): the end.
    private func regionFinished(count: UInt64, sent: Bool) {
        awaitingRegion = false
        guard sent, !isFinished else {
            finish()
            return
        }
        offset += count
        remaining -= count
        if remaining > 0 {
            pump()
            return
        }
        finish()
        sink.sendEnd(id, trailers: [])
    }

    /// Pumps again on the loop's next turn (once the session flushed what this one queued).
    private func schedulePump() {
        guard !pumpScheduled else { return }
        pumpScheduled = true
        let queued = sink.executor.execute { [self] in
            pumpScheduled = false
            pump()
        }
        if !queued {
            // The loop is stopping: the body cannot be finished.
            finish()
            sink.reset(id)
        }
    }

    private func allocateBuffer() -> UnsafeMutableRawBufferPointer {
        let size = Int(min(UInt64(chunkSize), max(remaining, 1)))
        let allocated = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        buffer = allocated
        return allocated
    }

    private func finish() {
        guard !isFinished else { return }
        isFinished = true
        file.close()
        buffer?.deallocate()
        buffer = nil
    }

    deinit { finish() }

    // MARK: HTTPServerExchange

    func receiveBody(_ bytes: UnsafeRawBufferPointer) {}

    func receiveEnd(trailers: HTTPRequestFieldLines?) {}

    func abort() { finish() }

    func responseWritable() { pump() }
}
