/// A request body as it arrives, in pieces, for an async handler.
///
/// Back-pressure: the server holds only a bounded amount of unread body
/// (``HTTPServerConfiguration/requestBodyBuffer``); while the handler does not read, the
/// connection (HTTP/1.1) or the stream's flow-control window (HTTP/2) stays shut, so the
/// client waits. Iterating throws ``HTTPServerHandlerError`` (`.cancelled`) when the client
/// goes away. Iterate it once.
///
/// ```swift
/// var total = 0
/// for try await piece in request.body { total += piece.count }
/// ```
public struct HTTPRequestBody: AsyncSequence, Sendable {
    /// A piece of the body.
    public typealias Element = [UInt8]
    /// Why iteration stopped early.
    public typealias Failure = HTTPServerHandlerError

    let exchange: HTTPAsyncExchange

    /// The iterator.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let exchange: HTTPAsyncExchange

        /// The next piece; nil at the end of the body.
        public mutating func next() async throws(HTTPServerHandlerError) -> [UInt8]? {
            try await exchange.nextBodyChunk()
        }

        /// The next piece; nil at the end of the body.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(HTTPServerHandlerError) -> [UInt8]? {
            try await exchange.nextBodyChunk()
        }
    }

    /// Starts reading.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(exchange: exchange) }

    /// Reads the whole body into one array; throws `.bodyTooLarge` past `limit` bytes.
    public func collect(upTo limit: Int) async throws(HTTPServerHandlerError) -> [UInt8] {
        var all: [UInt8] = []
        var iterator = makeAsyncIterator()
        while let piece = try await iterator.next() {
            guard all.count + piece.count <= limit else { throw HTTPServerHandlerError(.bodyTooLarge) }
            all += piece
        }
        return all
    }
}
