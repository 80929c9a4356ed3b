public import HTTPTypes

/// How an async handler answers: a head, body pieces, an end — each call suspends until the
/// loop has taken it, and a body write also until the client is ready for more (a client
/// that does not read holds the handler, not the server's memory). Calls throw
/// ``HTTPServerHandlerError`` (`.cancelled`) once the client went away.
///
/// A handler that returns without ending the response has it ended for it; one that throws
/// before the head gets `500` (without the error's text), after it a reset stream or a
/// closed connection.
public struct HTTPServerResponseWriter: Sendable {
    let exchange: HTTPAsyncExchange

    /// Sends the head; `bodyLength` nil streams the body (chunked, or DATA until the end).
    /// Framing fields (`Content-Length`, `Transfer-Encoding`, `Connection`) are dropped.
    public func writeHead(_ response: HTTPResponse, bodyLength: UInt64?) async throws(HTTPServerHandlerError) {
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(response.headerFields.count)
        for field in response.headerFields {
            switch field.name {
            case .contentLength, .transferEncoding, .connection: continue
            default: fields.append((name: field.name.rawName, value: field.value))
            }
        }
        let status = response.status.code
        let sending = fields
        try await exchange.write { (exchange) throws(HTTPServerHandlerError) in
            try exchange.loopSendHead(status: status, fields: sending, bodyLength: bodyLength)
        }
    }

    /// Sends the head from a status and fields.
    public func writeHead(status: Int, fields: [(name: String, value: String)] = [], bodyLength: UInt64?) async throws(HTTPServerHandlerError) {
        try await exchange.write { (exchange) throws(HTTPServerHandlerError) in
            try exchange.loopSendHead(status: status, fields: fields, bodyLength: bodyLength)
        }
    }

    /// Sends a piece of the body; returns once the session can take more.
    public func write(_ bytes: [UInt8]) async throws(HTTPServerHandlerError) {
        guard !bytes.isEmpty else { return }
        try await exchange.write { (exchange) throws(HTTPServerHandlerError) in
            try exchange.loopSendBody(bytes)
        }
    }

    /// Ends the response, with trailers when the body was streamed.
    public func end(trailers: [(name: String, value: String)] = []) async throws(HTTPServerHandlerError) {
        try await exchange.write { (exchange) throws(HTTPServerHandlerError) in
            try exchange.loopSendEnd(trailers: trailers)
        }
    }

    /// Sends a whole response.
    public func respond(status: Int, fields: [(name: String, value: String)] = [], body: [UInt8]) async throws(HTTPServerHandlerError) {
        try await writeHead(status: status, fields: fields, bodyLength: UInt64(body.count))
        try await write(body)
        try await end()
    }
}
