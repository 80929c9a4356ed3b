// Sends a file's bytes (or one range of them) as a response body, in bounded reads on the
// loop thread: each read is at most `chunkSize` bytes and at most what the session says it
// can take now (`writableBytes`: the socket's write-queue room on HTTP/1.1, with or without
// TLS; the stream's bounded buffer under HTTP/2 flow control). At 0 it stops and waits for
// `responseWritable()`, so a slow client never makes the server read ahead: per transfer at
// most one chunk plus the session's own bound is in memory, whatever the file's size.

/// One file body on its way out; the session holds it as the exchange of its request.
final class StaticFileTransfer: HTTPServerExchange {
    private let file: StaticOpenFile
    private let sink: any HTTPResponseSink
    private let id: HTTPExchangeID
    private let chunkSize: Int
    private var offset: UInt64
    private var remaining: UInt64
    private var buffer: UnsafeMutableRawBufferPointer?
    private var isFinished = false
    private var isPumping = false

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

    /// Sends what the session takes now; true once the whole body and its end went out.
    @discardableResult
    func pump() -> Bool {
        guard !isFinished, !isPumping else { return isFinished }
        isPumping = true
        defer { isPumping = false }
        while remaining > 0 {
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
