import Synchronization

/// A request body: bytes in memory, or a stream of chunks of known or unknown length.
///
/// Bytes and streams made by a closure can be sent again (retries, 307/308 redirects); a
/// stream given as a sequence is one-shot: once sent, even in part, the request is never
/// retried.
///
/// ```swift
/// try await client.execute(request, body: .bytes(Array("hello".utf8)))
/// try await client.execute(request, body: .stream(chunks, length: 1 << 20))
/// ```
public struct HTTPClientRequestBody: Sendable {
    enum Storage: Sendable {
        case bytes([UInt8])
        case stream(length: Int?, replayable: Bool, write: @Sendable (inout HTTPClientBodyWriter) async throws -> Void)
    }

    let storage: Storage
    private let oneShot: OneShotFlag?

    private init(storage: Storage, oneShot: OneShotFlag? = nil) {
        self.storage = storage
        self.oneShot = oneShot
    }

    /// A body held in memory (sent with `Content-Length`).
    public static func bytes(_ bytes: [UInt8]) -> HTTPClientRequestBody {
        HTTPClientRequestBody(storage: .bytes(bytes))
    }

    /// A body of UTF-8 text.
    public static func text(_ text: String) -> HTTPClientRequestBody { .bytes(Array(text.utf8)) }

    /// A one-shot stream of chunks: with `length` sent with `Content-Length` (the stream must
    /// give exactly that many bytes), without it chunked. Each chunk is written before the next
    /// is asked for, so a slow server slows the producer.
    public static func stream<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks, length: Int? = nil) -> HTTPClientRequestBody
    where Chunks.Element == [UInt8] {
        HTTPClientRequestBody(storage: .stream(length: length, replayable: false) { writer in
            for try await chunk in chunks { try await writer.write(chunk) }
        }, oneShot: OneShotFlag())
    }

    /// A stream made afresh by `makeChunks` for each attempt, so the request can be retried or
    /// redirected with its body.
    public static func replayableStream<Chunks: AsyncSequence & Sendable>(length: Int? = nil,
                                                                          _ makeChunks: @escaping @Sendable () -> Chunks) -> HTTPClientRequestBody
    where Chunks.Element == [UInt8] {
        HTTPClientRequestBody(storage: .stream(length: length, replayable: true) { writer in
            for try await chunk in makeChunks() { try await writer.write(chunk) }
        })
    }

    /// The length when known in advance.
    var knownLength: Int? {
        switch storage {
        case .bytes(let bytes): return bytes.count
        case .stream(let length, _, _): return length
        }
    }

    /// Whether the body can be sent again: bytes, a replayable stream, or a one-shot stream not
    /// yet started.
    var isReplayable: Bool {
        switch storage {
        case .bytes: return true
        case .stream(_, let replayable, _): return replayable || !(oneShot?.isSet ?? false)
        }
    }

    /// Records that a one-shot stream started sending; false if it already had.
    func claim() -> Bool { oneShot?.set() ?? true }
}

/// Set once, from any thread.
private final class OneShotFlag: Sendable {
    private let flag = Atomic(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    /// Sets the flag; returns whether this call set it.
    func set() -> Bool { !flag.exchange(true, ordering: .acquiringAndReleasing) }
}

/// Writes a streamed request body's chunks to the connection, one at a time.
public struct HTTPClientBodyWriter {
    /// Where the chunks go.
    enum Target {
        case http1(HTTP1ClientConnection)
        case http2(HTTP2ClientStream)
    }

    let target: Target
    let expected: Int?
    var written = 0

    init(connection: HTTP1ClientConnection, expected: Int?) {
        target = .http1(connection)
        self.expected = expected
    }

    init(stream: HTTP2ClientStream, expected: Int?) {
        target = .http2(stream)
        self.expected = expected
    }

    /// Runs a streamed body's producer into this writer and checks it gave the length it
    /// declared; both protocols' request paths end a streamed body with this.
    mutating func run(_ produce: @Sendable (inout HTTPClientBodyWriter) async throws -> Void) async throws(HTTPClientError) {
        do {
            try await produce(&self)
        } catch let error as HTTPClientError {
            throw error
        } catch {
            throw .invalidRequest("the body stream failed: \(error)")
        }
        if let expected, written != expected {
            throw .invalidRequest("the body stream gave \(written) of its \(expected) bytes")
        }
    }

    /// Sends one chunk and waits until the kernel took it (HTTP/2: until the peer's flow
    /// control let it go).
    public mutating func write(_ chunk: [UInt8]) async throws(HTTPClientError) {
        guard !chunk.isEmpty else { return }
        written += chunk.count
        if let expected, written > expected {
            throw .invalidRequest("the body stream gave more than its \(expected) bytes")
        }
        switch target {
        case .http1(let connection):
            try connection.sendBody(chunk)
            try await connection.flush()
        case .http2(let stream):
            try await stream.send(chunk, endStream: false)
        }
    }
}
