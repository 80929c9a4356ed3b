import EpsilonHTTP2
@_spi(EpsilonInternal) import EpsilonBytes

extension HTTP2ServerSession {
    // MARK: HTTPResponseSink (rule 3 of the seam; calls for an unknown stream are ignored)

    func sendHead(_ exchange: HTTPExchangeID, status: Int, fields: [(name: String, value: String)], bodyLength: UInt64?) {
        let id = UInt32(truncatingIfNeeded: exchange.rawValue)
        // HTTP/2 has no 101 (RFC 9113 §8.6): an upgrade cannot be answered here.
        guard (100...999).contains(status), status != 101 else { return }
        let informational = status < 200
        let outcome: Bool? = updateStream(id) { stream in
            guard !stream.headSent, !stream.endRequested else { return nil }
            if status == 204 || status == 304 { stream.bodyless = true }
            let endNow = !informational && (stream.bodyless || bodyLength == 0)
            guard writeHead(id, status: status, fields: fields, bodyLength: bodyLength, endStream: endNow) else { return nil }
            if !informational {
                stream.headSent = true
                stream.remainingLength = bodyLength
            }
            if endNow {
                stream.endRequested = true
                stream.responseEnded = true
            }
            return endNow
        } ?? nil
        guard let endNow = outcome else { return }
        if endNow { responseFinished(id) }
        flushAfterSend()
    }

    /// Builds the head in `headScratch` (`:status`, Date, Server, the fields, the length) and
    /// writes it; false when the machine refused it.
    private func writeHead(_ id: UInt32, status: Int, fields: [(name: String, value: String)], bodyLength: UInt64?,
                           endStream: Bool) -> Bool {
        let informational = status < 200
        headScratch.removeAll()
        appendStatus(status, to: &headScratch)
        if !informational {
            var date = context.date
            date.withUTF8 { headScratch.append(name: "date", value: UnsafeRawBufferPointer($0)) }
            if var server = context.configuration.serverName {
                server.withUTF8 { headScratch.append(name: "server", value: UnsafeRawBufferPointer($0)) }
            }
        }
        for field in fields { Self.appendField(field.name, field.value, to: &headScratch) }
        if !informational, let bodyLength, status != 204, status != 304 {
            Self.appendDecimal(bodyLength, named: "content-length", to: &headScratch)
        }
        let scratch = headScratch
        return withMachine { machine in (try? machine.sendHeaders(streamID: id, scratch, endStream: endStream)) != nil }
    }

    func sendBody(_ exchange: HTTPExchangeID, _ bytes: UnsafeRawBufferPointer) {
        let id = UInt32(truncatingIfNeeded: exchange.rawValue)
        guard !bytes.isEmpty else { return }
        let outcome: Bool? = updateStream(id) { stream in
            guard stream.headSent, !stream.endRequested, !stream.bodyless else { return nil }
            var bytes = bytes
            var last = false
            if let remaining = stream.remainingLength {
                // Never more than the head declared (the peer would reject the stream).
                if UInt64(bytes.count) >= remaining {
                    bytes = UnsafeRawBufferPointer(rebasing: bytes[..<Int(remaining)])
                    last = true
                    stream.endRequested = true
                }
                stream.remainingLength = remaining &- UInt64(bytes.count)
            }
            if stream.pendingCount == 0 && ioIsWritable {
                // The common case: straight into the machine, no copy into `pending`.
                let piece = bytes
                let sent = withMachine { machine in (try? machine.sendData(streamID: id, piece, endStream: last)) ?? 0 }
                if sent < bytes.count {
                    stream.pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[sent...]))
                } else if last {
                    stream.responseEnded = true
                }
            } else {
                stream.pending.append(contentsOf: bytes)
            }
            return stream.responseEnded
        } ?? nil
        guard let finished = outcome else { return }
        if finished { responseFinished(id) }
        flushAfterSend()
    }

    /// Runs `body` on the record of stream `id` in place (no copy out and back, one hash
    /// lookup); nil when there is none. `body` must not touch `streams` itself.
    @inline(__always)
    func updateStream<Result>(_ id: UInt32, _ body: (inout HTTP2ServerStream) -> Result) -> Result? {
        guard let index = streams.index(forKey: id) else { return nil }
        return body(&streams.values[index])
    }

    func writableBytes(_ exchange: HTTPExchangeID) -> Int {
        let id = UInt32(truncatingIfNeeded: exchange.rawValue)
        guard var stream = streams[id], !stream.endRequested else { return 0 }
        let room = Self.streamBufferLimit &- stream.pendingCount
        guard room > 0 else {
            stream.writerWaiting = true
            streams[id] = stream
            return 0
        }
        return room
    }

    func sendEnd(_ exchange: HTTPExchangeID, trailers: [(name: String, value: String)]) {
        let id = UInt32(truncatingIfNeeded: exchange.rawValue)
        guard var stream = streams[id], stream.headSent, !stream.endRequested else { return }
        if let remaining = stream.remainingLength, remaining > 0 {
            // Fewer bytes than the head declared: the peer must not take it as complete.
            reset(exchange)
            return
        }
        stream.endRequested = true
        if stream.remainingLength == nil, !stream.bodyless, !trailers.isEmpty {
            var list = HTTP2HeaderList()
            for field in trailers { Self.appendField(field.name, field.value, to: &list) }
            if !list.isEmpty { stream.trailers = list }
        }
        streams[id] = stream
        pump(id)
        flushAfterSend()
    }

    func reset(_ exchange: HTTPExchangeID) {
        let id = UInt32(truncatingIfNeeded: exchange.rawValue)
        guard let stream = streams.removeValue(forKey: id) else { return }
        withMachine { machine in try? machine.resetStream(streamID: id, code: .internalError) }
        if stream.unconsumed > 0 { withMachine { $0.consume(streamID: id, count: stream.unconsumed) } }
        noteStreamEnded()
        flushAfterSend()
    }

    func bodyConsumed(_ exchange: HTTPExchangeID, count: Int) {
        let id = UInt32(truncatingIfNeeded: exchange.rawValue)
        guard count > 0, var stream = streams[id] else { return }
        let credited = min(count, stream.unconsumed)
        guard credited > 0 else { return }
        stream.unconsumed &-= credited
        streams[id] = stream
        withMachine { $0.consume(streamID: id, count: credited) }
        flushAfterSend()
    }

    // MARK: Moving queued bytes out

    /// Sends what is queued on every stream, as windows and the write queue allow.
    func pumpAll() {
        for id in streams.keys.sorted() {
            guard ioIsWritable else { return }
            if let stream = streams[id], stream.pendingCount > 0 || (stream.endRequested && !stream.responseEnded) {
                pump(id)
            }
        }
    }

    /// Sends what is queued on `id`: body bytes while the windows and the write queue allow,
    /// then the end (trailers or END_STREAM) once the body is out; wakes a waiting writer.
    func pump(_ id: UInt32) {
        guard var stream = streams[id], stream.headSent, !stream.responseEnded else { return }
        let endWithData = stream.endRequested && stream.trailers == nil
        if stream.pendingCount > 0 && ioIsWritable {
            let start = stream.pendingStart
            let sent = stream.pending.withUnsafeBytes { bytes in
                withMachine { machine in
                    (try? machine.sendData(streamID: id, UnsafeRawBufferPointer(rebasing: bytes[start...]), endStream: endWithData)) ?? 0
                }
            }
            stream.pendingStart &+= sent
            if stream.pendingCount == 0 {
                stream.pendingStart = 0
                // A stream that once held a lot does not keep it.
                if stream.pending.capacity > 16 * 1024 { stream.pending = [] } else { stream.pending.removeAll(keepingCapacity: true) }
                if endWithData { stream.responseEnded = true }
            }
        }
        if stream.pendingCount == 0 && stream.endRequested && !stream.responseEnded {
            let trailers = stream.trailers
            withMachine { machine in
                if let trailers {
                    try? machine.sendTrailers(streamID: id, trailers)
                } else {
                    _ = try? machine.sendData(streamID: id, UnsafeRawBufferPointer(start: nil, count: 0), endStream: true)
                }
            }
            stream.trailers = nil
            stream.responseEnded = true
        }
        let wake = stream.writerWaiting && !stream.endRequested && stream.pendingCount <= Self.streamBufferLimit / 2
        if wake { stream.writerWaiting = false }
        streams[id] = stream
        if stream.responseEnded {
            responseFinished(id)
        } else if wake {
            stream.exchange?.responseWritable()
        }
    }

    // MARK: Building header lists

    /// Appends `:status` as three digits.
    private func appendStatus(_ status: Int, to list: inout HTTP2HeaderList) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 3) { digits in
            digits[0] = UInt8(truncatingIfNeeded: 0x30 &+ status / 100 % 10)
            digits[1] = UInt8(truncatingIfNeeded: 0x30 &+ status / 10 % 10)
            digits[2] = UInt8(truncatingIfNeeded: 0x30 &+ status % 10)
            list.append(name: ":status", value: UnsafeRawBufferPointer(digits))
        }
    }

    /// Appends a decimal field value.
    static func appendDecimal(_ value: UInt64, named name: StaticString, to list: inout HTTP2HeaderList) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var cursor = 20
            var rest = value
            repeat {
                cursor &-= 1
                digits[cursor] = UInt8(truncatingIfNeeded: 0x30 &+ rest % 10)
                rest /= 10
            } while rest > 0
            list.append(name: name, value: UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(digits)[cursor...]))
        }
    }

    /// Appends a dispatcher's field with its name in lower case (RFC 9113 §8.2.1), leaving
    /// out framing and connection-specific fields, which HTTP/2 forbids or the session sends
    /// itself (§8.2.2), and pseudo-header fields.
    static func appendField(_ name: String, _ value: String, to list: inout HTTP2HeaderList) {
        var name = name
        var value = value
        name.withUTF8 { nameBytes in
            guard !nameBytes.isEmpty, nameBytes[0] != UInt8(ascii: ":") else { return }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: nameBytes.count) { lower in
                for index in 0..<nameBytes.count { lower[index] = ASCII.lowercased(nameBytes[index]) }
                let lowered = UnsafeRawBufferPointer(lower)
                if isConnectionSpecific(lowered) { return }
                value.withUTF8 { valueBytes in
                    if lowered.elementsEqual("te".utf8), !ASCII.equalsIgnoringCase(valueBytes, "trailers".utf8) { return }
                    list.append(name: lowered, value: UnsafeRawBufferPointer(valueBytes))
                }
            }
        }
    }

    private static func isConnectionSpecific(_ name: UnsafeRawBufferPointer) -> Bool {
        switch name.count {
        case 7: name.elementsEqual("upgrade".utf8)
        case 10: name.elementsEqual("connection".utf8) || name.elementsEqual("keep-alive".utf8)
        case 14: name.elementsEqual("content-length".utf8)
        case 16: name.elementsEqual("proxy-connection".utf8)
        case 17: name.elementsEqual("transfer-encoding".utf8)
        default: false
        }
    }
}
