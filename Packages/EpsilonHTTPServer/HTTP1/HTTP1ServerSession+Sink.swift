import EpsilonHTTP1

// The sink side of the HTTP/1.1 session (rule 3 of the seam): the dispatcher's answers become
// HTTP1Connection sends, written straight to the socket's queue.

extension HTTP1ServerSession: HTTPResponseSink {
    var executor: HTTPServerLoopExecutor { io.executor }

    /// Runs `body` on the machine: the one inside `receive` when a handler answers inline.
    func withMachine<Result>(_ body: (inout HTTP1Connection) -> Result) -> Result {
        if let activeMachine {
            // Safe: set only for the duration of the machine's own handler call, on this
            // thread, pointing at the `inout` connection that call was given.
            return body(&activeMachine.pointee)
        }
        return body(&http)
    }

    /// Writes what the machine produced. Inside `receive` the output waits for the end of the
    /// call (`process` flushes it): one write per batch of inline answers, not three per answer.
    func flushMachine() {
        guard activeMachine == nil else { return }
        withMachine { machine in
            guard machine.hasOutput else { return }
            io.write { machine.writeOutput(into: &$0) }
        }
    }

    /// Whether `id` names the exchange being answered and it may still send.
    private func isLive(_ id: HTTPExchangeID) -> Bool {
        guard !closing, let current, current.id == id, !current.responseEnded else { return false }
        return true
    }

    func sendHead(_ id: HTTPExchangeID, status: Int, fields: [(name: String, value: String)], bodyLength: UInt64?) {
        guard isLive(id), current?.headSent == false else { return }
        headFields.removeAll(keepingCapacity: true)
        headFields.append((name: "Date", value: context.date))
        if let server = context.configuration.serverName { headFields.append((name: "Server", value: server)) }
        headFields.append(contentsOf: fields)
        let interim = status < 200
        let body: HTTP1BodyLength = switch bodyLength {
        case .none: .unknown
        case .some(0): .empty
        case .some(let length): .known(length)
        }
        let close = draining || requestCount >= context.configuration.maxRequestsPerConnection
        let sent = withMachine { machine -> Bool in
            do throws(HTTP1UsageError) {
                try machine.sendResponseHead(status: status, reason: HTTPStatusReason.phrase(for: status),
                                             fields: headFields, body: interim ? .empty : body, close: close)
                return true
            } catch {
                return false
            }
        }
        guard sent else {
            // A field the handler gave is not valid HTTP: a 500, never a broken head.
            if !interim { sendInternalError(id) }
            return
        }
        if !interim {
            current?.headSent = true
            // The machine ended these messages with their head (RFC 9110 §9.3.2, §15.3.5, §15.4.5).
            let isHead = current?.isHead == true
            current?.bodyless = isHead || status == 204 || status == 304 || bodyLength == 0
        }
        flushMachine()
        updatePhase()
    }

    /// Answers `500` with no content (the handler's own answer could not be sent).
    private func sendInternalError(_ id: HTTPExchangeID) {
        headFields.removeAll(keepingCapacity: true)
        headFields.append((name: "Date", value: context.date))
        if let server = context.configuration.serverName { headFields.append((name: "Server", value: server)) }
        _ = withMachine { machine -> Bool in
            (try? machine.sendResponseHead(status: 500, reason: "Internal Server Error", fields: headFields,
                                           body: .empty, close: true)) != nil
        }
        current?.headSent = true
        current?.bodyless = true
        responseEnded()
    }

    func sendBody(_ id: HTTPExchangeID, _ bytes: UnsafeRawBufferPointer) {
        guard isLive(id), let current, current.headSent, !current.bodyless, bytes.count > 0 else { return }
        let ok = withMachine { machine -> Bool in
            do throws(HTTP1UsageError) {
                try machine.sendBody(bytes)
                return true
            } catch {
                // 204/304, or more than the declared length: a handler bug the client must
                // not see as a valid message.
                return error == .bodyNotAllowed
            }
        }
        guard ok else {
            reset(id)
            return
        }
        flushMachine()
    }

    func writableBytes(_ id: HTTPExchangeID) -> Int {
        guard isLive(id) else { return 0 }
        // Zero only while the transport reports the queue full: it then reports the drain,
        // so a writer waiting for room is always woken.
        return io.isWritable ? max(1, io.writeHighWatermark - io.pendingWriteBytes) : 0
    }

    func sendEnd(_ id: HTTPExchangeID, trailers: [(name: String, value: String)]) {
        guard isLive(id), let current, current.headSent else { return }
        if current.bodyless {
            responseEnded()
            return
        }
        let ok = withMachine { machine -> Bool in (try? machine.sendEnd(trailers: trailers)) != nil }
        guard ok else {
            reset(id)
            return
        }
        flushMachine()
        responseEnded()
    }

    func reset(_ id: HTTPExchangeID) {
        guard isLive(id), let current else { return }
        if !current.headSent {
            sendInternalError(id)
            return
        }
        // The head went out: the client can only learn of the failure by a cut message.
        self.current?.responseEnded = true
        self.current?.exchange = nil
        close()
    }

    func bodyConsumed(_ id: HTTPExchangeID, count: Int) {
        guard !closing, let current, current.id == id else { return }
        self.current?.unconsumed = max(0, current.unconsumed - count)
        if pausedForBody, self.current!.unconsumed <= context.configuration.requestBodyBuffer {
            pausedForBody = false
            if !pausedForResponse { io.resumeReading() }
        }
    }

    /// Stops reading while the handler has more unread body than the configured buffer.
    func pauseIfBodyBacklogged() {
        guard let current, current.unconsumed > context.configuration.requestBodyBuffer, !pausedForBody else { return }
        pausedForBody = true
        io.pauseReading()
    }
}
