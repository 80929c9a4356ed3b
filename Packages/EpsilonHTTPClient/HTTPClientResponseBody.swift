import EpsilonHTTPContentCoding
import Synchronization

/// A response body: an `AsyncSequence` of byte chunks with back-pressure (the next chunk is
/// read from the connection only when asked for), readable once.
///
/// Reading to the end gives the connection back to the pool. Dropping the body before its end
/// closes the connection (its remaining bytes are never read) and frees the pool slot; so does
/// cancelling the task that reads it.
public struct HTTPClientResponseBody: AsyncSequence, Sendable {
    /// A chunk of the body.
    public typealias Element = [UInt8]
    /// The error a read throws.
    public typealias Failure = HTTPClientError

    let source: ResponseBodySource

    /// The iterator; there is one per body.
    public struct AsyncIterator: AsyncIteratorProtocol {
        /// A chunk of the body.
        public typealias Element = [UInt8]
        /// The error a read throws.
        public typealias Failure = HTTPClientError
        let source: ResponseBodySource?

        /// The next chunk, or nil at the end.
        public mutating func next() async throws(HTTPClientError) -> [UInt8]? {
            guard let source else { throw .bodyAlreadyConsumed }
            return try await source.next()
        }

        /// The next chunk, or nil at the end.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(HTTPClientError) -> [UInt8]? {
            guard let source else { throw .bodyAlreadyConsumed }
            return try await source.next()
        }
    }

    /// The iterator. A second iterator throws ``HTTPClientError/bodyAlreadyConsumed``.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(source: source.claim() ? source : nil)
    }

    /// The whole body, or ``HTTPClientError/bodyTooLarge(limit:)`` once it passes `limit` bytes
    /// (the connection is then closed rather than drained).
    public func collect(upTo limit: Int) async throws(HTTPClientError) -> [UInt8] {
        var iterator = makeAsyncIterator()
        var result: [UInt8] = []
        while let chunk = try await iterator.next() {
            guard result.count + chunk.count <= limit else {
                source.abandon()
                throw .bodyTooLarge(limit: limit)
            }
            if result.isEmpty {
                result = chunk
            } else {
                result.append(contentsOf: chunk)
            }
        }
        return result
    }

    /// Reads and drops the rest of the body (so a small one gives its connection back).
    func discard(upTo limit: Int) async {
        var iterator = makeAsyncIterator()
        var seen = 0
        do {
            while let chunk = try await iterator.next() {
                seen += chunk.count
                if seen > limit {
                    source.abandon()
                    return
                }
            }
        } catch {
            return
        }
    }
}

/// Where a body's chunks come from: the connection (returned to the pool at the end), or chunks
/// already received; and the decoder when the body has a `Content-Encoding`.
final class ResponseBodySource: @unchecked Sendable {
    // @unchecked: `claim()` (atomic) admits one iterator; only that iterator's task calls
    // `next()`/`abandon()`, so the mutable fields below are touched by one task at a time.
    private let claimed = Atomic(false)
    private var connection: HTTP1ClientConnection?
    private let pool: ConnectionPool?
    private var buffered: [[UInt8]]
    private var bufferedIndex = 0
    private var decoder: HTTPContentDecoder?
    private var finished = false
    private let readTimeout: Duration?
    /// An HTTP/2 body: its stream (which frees its slot at the end, or resets when dropped).
    private var stream: HTTP2ClientStream?

    /// A body still on `connection`, which goes back to `pool` at the end (or on an HTTP/2 `stream`).
    init(connection: HTTP1ClientConnection?, pool: ConnectionPool?, buffered: [[UInt8]],
         decoder: HTTPContentDecoder?, readTimeout: Duration?, http2 stream: HTTP2ClientStream? = nil) {
        self.connection = connection
        self.stream = stream
        self.pool = pool
        self.buffered = buffered
        self.decoder = decoder
        self.readTimeout = readTimeout
        finished = connection == nil && stream == nil && buffered.isEmpty && decoder == nil
    }

    deinit {
        if let connection { pool?.release(connection, reusable: false) }
    }

    func claim() -> Bool { !claimed.exchange(true, ordering: .acquiringAndReleasing) }

    /// Gives up on the rest: the connection is closed and its slot freed.
    func abandon() {
        finished = true
        stream?.cancel()
        stream = nil
        if let connection {
            self.connection = nil
            pool?.release(connection, reusable: false)
        }
    }

    func next() async throws(HTTPClientError) -> [UInt8]? {
        while !finished {
            guard let raw = try await nextRaw() else {
                finished = true
                if let decoder { try ResponseDecoding.finish(decoder) }
                return nil
            }
            guard let decoder else { return raw }
            var output: [UInt8] = []
            do {
                try ResponseDecoding.decode(raw, with: decoder, into: &output)
            } catch {
                abandon()
                throw error
            }
            if !output.isEmpty { return output }
        }
        return nil
    }

    /// The next chunk as received.
    private func nextRaw() async throws(HTTPClientError) -> [UInt8]? {
        if bufferedIndex < buffered.count {
            var chunk: [UInt8] = []
            swap(&chunk, &buffered[bufferedIndex])
            bufferedIndex += 1
            return chunk
        }
        if let stream {
            stream.watchdog.startPhase(readTimeout, error: .readTimeout)
            do {
                if let chunk = try await stream.next() { return chunk }
            } catch {
                abandon()
                throw error
            }
            self.stream = nil
            return nil
        }
        guard let connection else { return nil }
        connection.watchdog.startPhase(readTimeout, error: .readTimeout)
        do {
            if let chunk = try await connection.readBodyChunk() { return chunk }
        } catch {
            abandon()
            throw error
        }
        self.connection = nil
        connection.watchdog.clear()
        pool?.release(connection, reusable: connection.isReusable)
        return nil
    }
}
