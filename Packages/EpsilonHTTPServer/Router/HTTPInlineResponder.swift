/// How an inline handler answers: on the loop thread, at once (the bytes go to the socket's
/// write queue before the handler returns). Use it only during the handler call.
///
/// Either ``respond(_:)`` with a whole response, or ``writeHead(status:fields:bodyLength:)``,
/// ``writeBody(_:)``… and ``writeEnd()``. A response to HEAD loses its body on the way out.
public struct HTTPInlineResponder {
    let sink: any HTTPResponseSink
    let exchange: HTTPExchangeID

    init(sink: any HTTPResponseSink, exchange: HTTPExchangeID) {
        self.sink = sink
        self.exchange = exchange
    }

    /// Sends a prepared response (allocates nothing).
    public func respond(_ response: HTTPFixedResponse) {
        sink.sendHead(exchange, status: response.status, fields: response.fields, bodyLength: UInt64(response.body.count))
        response.body.withUnsafeBytes { sink.sendBody(exchange, $0) }
        sink.sendEnd(exchange, trailers: [])
    }

    /// Sends a whole response.
    public func respond(status: Int, fields: [(name: String, value: String)] = [], body: [UInt8]) {
        sink.sendHead(exchange, status: status, fields: fields, bodyLength: UInt64(body.count))
        body.withUnsafeBytes { sink.sendBody(exchange, $0) }
        sink.sendEnd(exchange, trailers: [])
    }

    /// Sends a whole response with a text body.
    public func respond(status: Int, fields: [(name: String, value: String)] = [], text: String) {
        var text = text
        sink.sendHead(exchange, status: status, fields: fields, bodyLength: UInt64(text.utf8.count))
        text.withUTF8 { sink.sendBody(exchange, UnsafeRawBufferPointer($0)) }
        sink.sendEnd(exchange, trailers: [])
    }

    /// Sends the head; `bodyLength` nil streams the body (chunked, or DATA until the end).
    public func writeHead(status: Int, fields: [(name: String, value: String)] = [], bodyLength: UInt64?) {
        sink.sendHead(exchange, status: status, fields: fields, bodyLength: bodyLength)
    }

    /// Sends a piece of the body (copied into the write queue).
    public func writeBody(_ bytes: UnsafeRawBufferPointer) {
        sink.sendBody(exchange, bytes)
    }

    /// Ends the response, with trailers when the body was streamed.
    public func writeEnd(trailers: [(name: String, value: String)] = []) {
        sink.sendEnd(exchange, trailers: trailers)
    }
}
