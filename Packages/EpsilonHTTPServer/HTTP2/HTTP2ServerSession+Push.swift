import EpsilonHTTP2

/// A response side that can promise pushed responses (the HTTP/2 session); the dispatcher's
/// response writer finds it by a cast of its ``HTTPResponseSink``.
protocol HTTPServerPushSink: AnyObject {
    /// Promises a `GET` of `path` (same scheme and authority as the request `exchange`
    /// answers) with `fields`, and serves it through the dispatcher like a received request;
    /// returns the pushed exchange. Call before the response of `exchange` ends.
    func push(from exchange: HTTPExchangeID, path: String, fields: [(name: String, value: String)]) throws(HTTP2ServerPushError) -> HTTPExchangeID
}

extension HTTP2ServerSession: HTTPServerPushSink {
    func push(from exchange: HTTPExchangeID, path: String, fields: [(name: String, value: String)]) throws(HTTP2ServerPushError) -> HTTPExchangeID {
        let id = UInt32(truncatingIfNeeded: exchange.rawValue)
        guard !isClosed, let stream = streams[id], !stream.responseEnded else { throw .streamClosed }
        guard machineValue(\.peerSettings.enablePush), let origin = stream.origin else { throw .disabledByPeer }
        guard path.utf8.first == UInt8(ascii: "/"), !path.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f }) else {
            throw .invalidRequest
        }
        var request = HTTP2HeaderList()
        request.append(name: ":method", value: "GET")
        request.append(name: ":scheme", value: origin.scheme)
        if !origin.authority.isEmpty { request.append(name: ":authority", value: origin.authority) }
        request.append(name: ":path", value: path)
        for field in fields { Self.appendField(field.name, field.value, to: &request) }
        let promised: Result<UInt32, HTTP2UsageError> = withMachine { machine in
            Result { () throws(HTTP2UsageError) in try machine.pushPromise(streamID: id, request: request) }
        }
        switch promised {
        case .success(let promisedID):
            // Served like a received request that ended at its head (§8.4.1: GET, no body).
            dispatch(streamID: promisedID, request, endStream: true)
            flushAfterSend()
            return HTTPExchangeID(UInt64(promisedID))
        case .failure(.pushDisabled):
            throw .disabledByPeer
        case .failure(.tooManyStreams), .failure(.streamIDsExhausted):
            throw .tooManyStreams
        case .failure:
            throw .streamClosed
        }
    }
}
