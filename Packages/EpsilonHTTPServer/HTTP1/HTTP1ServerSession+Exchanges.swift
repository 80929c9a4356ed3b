import EpsilonHTTP1
@_spi(EpsilonInternal) import EpsilonBytes

// Requests in and out of the HTTP/1.1 session: dispatch, the end of a request, the end of a
// response, and the `Upgrade: h2c` hand-off.

extension HTTP1ServerSession {
    /// A request head arrived: count it and give it to the dispatcher.
    func dispatch(_ view: HTTPRequestHeadView, isHead: Bool) {
        requestCount += 1
        let id = HTTPExchangeID(nextID)
        nextID &+= 1
        current = Current(id: id, exchange: nil, isHead: isHead)
        let exchange = context.dispatcher.requestHead(view, exchange: id, sink: self)
        // Answered inline and already finished, or answered with the body still to come (read
        // and dropped): the exchange, if any, is not wanted.
        guard current?.id == id, current?.responseEnded == false else { return }
        current?.exchange = exchange
    }

    /// The request's last byte arrived.
    func requestFinished() {
        guard let current else { return }
        if current.responseEnded { finishExchange() }
    }

    /// The response's last byte was queued.
    func responseEnded() {
        guard current != nil else { return }
        current?.responseEnded = true
        if current?.requestEnded == true {
            finishExchange()
        } else {
            // An early answer: the rest of the request body is read and dropped.
            current?.exchange = nil
        }
        withMachine { machine in
            if machine.isClosed && !inReceive { close() }
        }
    }

    /// Both directions of the exchange are done: forget it and go on with the next request.
    func finishExchange() {
        current = nil
        if pausedForBody {
            pausedForBody = false
            if !pausedForResponse { io.resumeReading() }
        }
        guard !inReceive else { return }
        // Called from an async handler's completion: what waited behind it may go on now.
        if http.isClosed {
            close()
            return
        }
        if draining || peerFinished {
            if http.isIdle && carry.isEmpty {
                close()
                return
            }
        }
        if pausedForResponse {
            pausedForResponse = false
            io.resumeReading()
        }
        if !carry.isEmpty {
            processCarry()
        }
        afterInput()
        if (draining || peerFinished) && current == nil && carry.isEmpty && !closing { close() }
    }

    /// `Upgrade: h2c` on a request without body, with cleartext HTTP/2 on and an HTTP/2
    /// session to hand over to: answers `101` and returns the request to replay as stream 1.
    func h2cUpgrade(_ view: HTTPRequestHeadView, target: UnsafeRawBufferPointer) -> HTTPServerH2CUpgrade? {
        guard context.configuration.allowsCleartextHTTP2, !io.isSecure, HTTPServerSessions.supportsH2CUpgrade,
              let upgrade = view.firstValue(of: "upgrade"), Self.listsToken(upgrade, "h2c"),
              let settings = view.firstValue(of: "http2-settings"),
              let payload = HTTPServerBase64URL.decode(settings) else { return nil }
        var fields: [(name: String, value: String)] = []
        view.fields.forEachFieldLine { (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) in
            for skipped in ["connection", "upgrade", "http2-settings", "keep-alive", "transfer-encoding", "te", "host", "proxy-connection"]
            where ASCII.equalsIgnoringCase(name, skipped.utf8) { return }
            fields.append((name: String(decoding: name.map(ASCII.lowercased), as: UTF8.self), value: String(decoding: value, as: UTF8.self)))
        }
        var upgradeFields: [(name: String, value: String)] = [("Date", context.date)]
        if let server = context.configuration.serverName { upgradeFields.append(("Server", server)) }
        upgradeFields += [("Connection", "Upgrade"), ("Upgrade", "h2c")]
        let switched = withMachine { machine -> Bool in
            (try? machine.sendResponseHead(status: 101, reason: "Switching Protocols", fields: upgradeFields, body: .empty)) != nil
        }
        guard switched else { return nil }
        requestCount += 1
        return HTTPServerH2CUpgrade(
            method: view.string(view.method), scheme: "http", authority: view.string(view.authority),
            target: String(decoding: target, as: UTF8.self), fields: fields, settingsPayload: payload)
    }

    /// Whether a comma-separated field value lists `token` (ignoring case and whitespace).
    static func listsToken(_ value: UnsafeRawBufferPointer, _ token: String) -> Bool {
        for element in value.split(separator: 0x2C) {
            var part = element[...]
            while let first = part.first, ASCII.isWhitespace(first) { part.removeFirst() }
            while let last = part.last, ASCII.isWhitespace(last) { part.removeLast() }
            if ASCII.equalsIgnoringCase(part, token.utf8) { return true }
        }
        return false
    }
}
