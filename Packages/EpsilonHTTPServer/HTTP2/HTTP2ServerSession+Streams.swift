import EpsilonHTTP2

extension HTTP2ServerSession {
    // MARK: Machine events (with the lent connection in `lent`)

    /// One machine event: requests to the dispatcher, window growth to the writers.
    func handle(_ event: HTTP2Event) {
        switch event {
        case .headers(let id, let list, let endStream):
            dispatch(streamID: id, list, endStream: endStream)
        case .data(let id, let bytes, let endStream):
            requestData(id, bytes, endStream: endStream)
        case .trailers(let id, let list):
            guard var stream = streams[id], !stream.requestEnded else { return }
            stream.requestEnded = true
            streams[id] = stream
            stream.exchange?.receiveEnd(trailers: HTTPRequestFieldLines(http2: list))
            finishIfDone(id)
        case .streamReset(let id, _, _):
            // By the peer (RST_STREAM, or refused by its GOAWAY) or by the machine for a
            // stream error the peer made: the exchange can never complete.
            guard let stream = streams.removeValue(forKey: id) else { return }
            abandon(id, stream)
        case .windowUpdated(let id, _):
            if id == 0 { pumpAll() } else { pump(id) }
        case .goaway:
            peerSentGoaway()
        case .settingsChanged, .settingsAcknowledged, .ping, .pingAcknowledged, .pushPromise,
             .priority, .priorityUpdate:
            break
        }
    }

    /// A request head on a new stream (or a pushed request, `promised`): checked against the
    /// server's limits, then handed to the dispatcher.
    func dispatch(streamID id: UInt32, _ list: HTTP2HeaderList, endStream: Bool) {
        guard streams[id] == nil else { return }
        let summary = HTTP2RequestHead.Summary(list)
        let configuration = context.configuration
        var stream = HTTP2ServerStream(requestEnded: endStream)
        if !endStream {
            stream.bodyDeadline = io.now &+ Self.nanoseconds(configuration.bodyTimeout)
            armBodyTimer(at: stream.bodyDeadline)
        }
        if summary.method >= 0 {
            stream.bodyless = list.withField(at: summary.method) { _, value in value.elementsEqual("HEAD".utf8) }
        }
        if machineValue(\.peerSettings.enablePush) {
            // Kept only when the peer accepts pushes (the promised requests' origin).
            stream.origin = HTTP2ServerStream.Origin(list, summary)
        }
        streams[id] = stream
        // The limits HTTP/1.1 answers with 431 and 413 (the machine bounds the block's bytes
        // at its SETTINGS_MAX_HEADER_LIST_SIZE; `maxHeaderBytes` is the server's own limit).
        if summary.fieldCount > configuration.maxHeaderCount || summary.headBytes > configuration.maxHeaderBytes {
            refuse(id, status: 431)
            return
        }
        if HTTP2RequestChecks.isBadRequest(list, summary) {
            refuse(id, status: 400)
            return
        }
        if summary.expectationFailed {
            refuse(id, status: 417)
            return
        }
        if let text = Self.unservedConnect(list, summary) {
            HTTPInlineResponder(sink: self, exchange: HTTPExchangeID(UInt64(id))).respond(status: 501, fields: [("Content-Type", "text/plain")], text: text)
            return
        }
        if let length = summary.contentLength, length > configuration.maxBodyBytes {
            streams[id]?.resetWhenAnswered = true
            refuse(id, status: 413)
            return
        }
        let exchange = HTTP2RequestHead.with(list, summary: summary, endStream: endStream) { head in
            context.dispatcher.requestHead(head, exchange: HTTPExchangeID(UInt64(id)), sink: self)
        }
        guard var current = streams[id] else {
            // Answered inline and finished before the call returned: the exchange hears how
            // the request ended (a body still coming was refused with RST_STREAM NO_ERROR).
            if endStream { exchange?.receiveEnd(trailers: nil) } else { exchange?.abort() }
            return
        }
        if current.responseEnded {
            // Answered inline while the body is still coming: the body is dropped (see
            // responseFinished), and the exchange hears the request will not complete.
            exchange?.abort()
            return
        }
        current.exchange = exchange
        streams[id] = current
        if endStream { exchange?.receiveEnd(trailers: nil) }
        finishIfDone(id)
    }

    /// Answers `status` with no body, without the dispatcher.
    private func refuse(_ id: UInt32, status: Int) {
        sendHead(HTTPExchangeID(UInt64(id)), status: status, fields: [], bodyLength: 0)
    }

    /// Request body bytes: to the exchange, counted until it reports them read.
    private func requestData(_ id: UInt32, _ bytes: UnsafeRawBufferPointer, endStream: Bool) {
        guard var stream = streams[id], !stream.requestEnded, let exchange = stream.exchange else {
            // No one reads it (the dispatcher wanted only the head, or answered already):
            // credit it back at once, still within the body size limit.
            withMachine { $0.consume(streamID: id, count: bytes.count) }
            guard var stream = streams[id], !stream.requestEnded else { return }
            stream.received &+= UInt64(bytes.count)
            if stream.received > context.configuration.maxBodyBytes {
                tooLarge(id, stream)
                return
            }
            stream.requestEnded = endStream
            streams[id] = stream
            finishIfDone(id)
            return
        }
        stream.received &+= UInt64(bytes.count)
        if stream.received > context.configuration.maxBodyBytes, !stream.isTunnel {
            tooLarge(id, stream)
            withMachine { $0.consume(streamID: id, count: bytes.count) }
            return
        }
        stream.unconsumed &+= bytes.count
        if endStream { stream.requestEnded = true }
        streams[id] = stream
        if !bytes.isEmpty { exchange.receiveBody(bytes) }
        // The exchange may have finished (or reset) the stream from inside receiveBody.
        guard endStream, streams[id] != nil else { return }
        exchange.receiveEnd(trailers: nil)
        finishIfDone(id)
    }

    /// The body grew past the limit while streaming: `413` if no head went out yet, else
    /// RST_STREAM; the exchange is aborted.
    private func tooLarge(_ id: UInt32, _ stream: HTTP2ServerStream) {
        cutShort(id, stream, status: "413")
    }

    /// Ends a stream whose request body will not be read: RST_STREAM NO_ERROR after a
    /// complete response, else `status` (no body) then RST_STREAM NO_ERROR if no head went
    /// out yet, else RST_STREAM CANCEL; the exchange is aborted.
    func cutShort(_ id: UInt32, _ stream: HTTP2ServerStream, status: String) {
        streams[id] = nil
        withMachine { machine in
            if stream.responseEnded {
                try? machine.resetStream(streamID: id, code: .noError)
            } else if !stream.headSent, (try? machine.sendHeaders(streamID: id, HTTP2HeaderList([.init(":status", status)]), endStream: true)) != nil {
                try? machine.resetStream(streamID: id, code: .noError)
            } else {
                try? machine.resetStream(streamID: id, code: .cancel)
            }
        }
        abandon(id, stream)
    }

    // MARK: Stream ends

    /// A stream left the table unfinished: what its handler never read goes back to the
    /// connection window, and the exchange is aborted.
    func abandon(_ id: UInt32, _ stream: HTTP2ServerStream) {
        if stream.unconsumed > 0 { withMachine { $0.consume(streamID: id, count: stream.unconsumed) } }
        noteStreamEnded()
        stream.exchange?.abort()
    }

    /// Removes a stream whose request and response are both done.
    func finishIfDone(_ id: UInt32) {
        guard let index = streams.index(forKey: id), streams.values[index].isFinished else { return }
        let stream = streams.remove(at: index).value
        if stream.unconsumed > 0 { withMachine { $0.consume(streamID: id, count: stream.unconsumed) } }
        noteStreamEnded()
        // A WebSocket's driver hears that its stream is over.
        if stream.isTunnel { stream.exchange?.abort() }
    }

    /// The response is complete. If the request is too, the stream is done. If the client is
    /// still sending, the exchange is over (aborted, so a body reader ends) and the rest of
    /// the request is read and discarded, its credit returned at once, until END_STREAM: the
    /// stream stays open on our side, so the peer's later frames on it get the RFC's answers
    /// (what h2spec checks). A refused body (`413`) is cut short with RST_STREAM NO_ERROR
    /// instead (RFC 9113 §8.1).
    func responseFinished(_ id: UInt32) {
        guard var stream = streams[id] else { return }
        if stream.requestEnded {
            finishIfDone(id)
            return
        }
        if stream.resetWhenAnswered || stream.isTunnel {
            // A WebSocket's END_STREAM follows its close handshake: what the peer still
            // sends is of no use (the HTTP/1.1 session closes the socket here).
            streams[id] = nil
            withMachine { machine in try? machine.resetStream(streamID: id, code: .noError) }
            abandon(id, stream)
            return
        }
        let exchange = stream.exchange
        stream.exchange = nil
        let unread = stream.unconsumed
        stream.unconsumed = 0
        streams[id] = stream
        if unread > 0 { withMachine { $0.consume(streamID: id, count: unread) } }
        exchange?.abort()
    }
}
