public import EpsilonWebSocket

/// The messages a ``WebSocketClientConnection`` receives, as an `AsyncSequence` that ends
/// after the close handshake and throws ``WebSocketClientError`` when the connection fails.
///
/// Reading is what moves the connection: Pings are answered and Pongs seen as it is iterated.
/// One consumer at a time.
public struct WebSocketClientInbound: AsyncSequence, Sendable {
    /// A message.
    public typealias Element = WebSocketClientMessage
    /// The connection's error type.
    public typealias Failure = WebSocketClientError

    let connection: WebSocketClientConnection

    /// Iterates the messages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let connection: WebSocketClientConnection

        /// The next message, nil after the close handshake.
        public mutating func next() async throws(WebSocketClientError) -> WebSocketClientMessage? {
            try await connection.receive()
        }

        /// The next message, nil after the close handshake.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(WebSocketClientError) -> WebSocketClientMessage? {
            try await connection.receive()
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(connection: connection) }
}

/// The sending side handed to ``WebSocketClient/connect(to:configuration:group:_:)``'s body:
/// text, binary, Ping and Close.
public struct WebSocketClientOutbound: Sendable {
    let connection: WebSocketClientConnection

    /// Sends a message (see ``WebSocketClientConnection/send(_:)``).
    public func send(_ message: WebSocketClientMessage) async throws(WebSocketClientError) {
        try await connection.send(message)
    }

    /// Sends a text message.
    public func send(text: String) async throws(WebSocketClientError) {
        try await connection.send(.text(text))
    }

    /// Sends a binary message.
    public func send(binary: [UInt8]) async throws(WebSocketClientError) {
        try await connection.send(.binary(binary))
    }

    /// Sends a Ping (payload at most 125 bytes).
    public func ping(_ payload: [UInt8] = []) async throws(WebSocketClientError) {
        try await connection.ping(payload)
    }

    /// Starts the close handshake (see ``WebSocketClientConnection/close(code:reason:)``).
    public func close(code: WebSocketCloseCode? = .normalClosure, reason: String = "") async throws(WebSocketClientError) {
        try await connection.close(code: code, reason: reason)
    }
}
