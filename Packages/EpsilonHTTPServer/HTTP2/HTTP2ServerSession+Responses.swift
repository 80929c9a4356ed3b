import EpsilonHTTP2

/// Why the session refused a response call: the stream is not one it can write to.
enum HTTP2ResponseRefusal: Error, Equatable {
    /// No such stream: it finished, was reset, or the connection closed.
    case unknownStream
    /// The head was already sent (a second final head), or not yet (body before head).
    case outOfOrder
}

extension HTTP2ServerSession {
    // MARK: Responses (called by the dispatcher on the loop thread)

    /// Sends the response head (`:status` first, then the fields; an informational 1xx head
    /// may come before the final one). With `endStream` the response has no body. A `HEAD`
    /// request's response ends at its head whatever the caller says (RFC 9110 §9.3.2).
    func sendHead(streamID: UInt32, _ fields: HTTP2HeaderList, endStream: Bool) throws(HTTP2ResponseRefusal) {
        guard var stream = streams[streamID], !stream.endRequested else { throw .unknownStream }
        guard !stream.headSent else { throw .outOfOrder }
        let informational = fields.count > 0 && fields.withField(at: 0) { name, value in
            name.elementsEqual(":status".utf8) && value.first == UInt8(ascii: "1")
        }
        let ends = !informational && (endStream || stream.isHead)
        let sent: Bool = withMachine { machine in
            do throws(HTTP2UsageError) {
                try machine.sendHeaders(streamID: streamID, fields, endStream: ends)
                return true
            } catch {
                return false
            }
        }
        guard sent else { throw .unknownStream }
        if !informational { stream.headSent = true }
        if ends {
            stream.endRequested = true
            stream.responseEnded = true
        }
        streams[streamID] = stream
        if ends { responseFinished(streamID) }
        flushAfterSend()
    }

    /// Queues response body bytes (copied) and sends what the windows allow. Returns whether
    /// the caller may send more now; on `false` wait for
    /// ``HTTP2StreamDelegate/responseWritable(streamID:)``. Bytes for a `HEAD` response are
    /// dropped.
    @discardableResult
    func sendBody(streamID: UInt32, _ bytes: UnsafeRawBufferPointer) throws(HTTP2ResponseRefusal) -> Bool {
        guard var stream = streams[streamID], !stream.endRequested else { throw .unknownStream }
        guard stream.headSent else { throw .outOfOrder }
        if stream.isHead || bytes.isEmpty { return true }
        if stream.pendingCount == 0 && io.isWritable {
            // The common case: straight into the machine, no copy into `pending`.
            let sent = withMachine { machine in (try? machine.sendData(streamID: streamID, bytes, endStream: false)) ?? 0 }
            if sent < bytes.count { stream.pending.append(contentsOf: bytes[sent...]) }
        } else {
            stream.pending.append(contentsOf: bytes)
        }
        let mayContinue = stream.pendingCount < Self.streamBufferLimit
        if !mayContinue { stream.writerWaiting = true }
        streams[streamID] = stream
        flushAfterSend()
        return mayContinue
    }

    /// Ends the response, with trailers if given, once the queued body is out.
    func sendEnd(streamID: UInt32, trailers: HTTP2HeaderList? = nil) throws(HTTP2ResponseRefusal) {
        guard var stream = streams[streamID], !stream.endRequested else { throw .unknownStream }
        guard stream.headSent else { throw .outOfOrder }
        stream.endRequested = true
        if !stream.isHead, let trailers, !trailers.isEmpty { stream.trailers = trailers }
        streams[streamID] = stream
        pump(streamID)
        flushAfterSend()
    }

    /// Abandons the exchange with RST_STREAM (`INTERNAL_ERROR` by default: the handler failed
    /// after the head went out). The delegate is not called back for it.
    func reset(streamID: UInt32, code: HTTP2ErrorCode = .internalError) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        withMachine { machine in try? machine.resetStream(streamID: streamID, code: code) }
        streamGone(streamID, stream)
        flushAfterSend()
    }

    /// The handler read `count` request body octets: the peer gets that much window back
    /// (a WINDOW_UPDATE once half the window is owed).
    func bodyConsumed(streamID: UInt32, count: Int) {
        guard count > 0, var stream = streams[streamID] else { return }
        let credited = min(count, stream.unconsumed)
        stream.unconsumed &-= credited
        streams[streamID] = stream
        withMachine { $0.consume(streamID: streamID, count: credited) }
        flushAfterSend()
    }

    /// How many response octets `streamID` can take now without making its writer wait.
    func writableBytes(streamID: UInt32) -> Int {
        guard let stream = streams[streamID], !stream.endRequested else { return 0 }
        return max(0, Self.streamBufferLimit &- stream.pendingCount)
    }

    // MARK: Moving queued bytes out

    /// Sends what is queued on every stream, as windows and the write queue allow.
    func pumpAll() {
        for id in streams.keys.sorted() where streams[id].map({ $0.pendingCount > 0 || $0.endRequested }) == true {
            pump(id)
        }
    }

    /// Sends what is queued on `id`: body bytes while the windows and the write queue allow,
    /// then the end (trailers or END_STREAM) once the body is out.
    func pump(_ id: UInt32) {
        guard var stream = streams[id], stream.headSent, !stream.responseEnded else { return }
        let endWithData = stream.endRequested && stream.trailers == nil
        if stream.pendingCount > 0 && io.isWritable {
            let start = stream.pendingStart
            let sent = stream.pending.withUnsafeBytes { bytes in
                withMachine { machine in
                    (try? machine.sendData(streamID: id, UnsafeRawBufferPointer(rebasing: bytes[start...]),
                                           endStream: endWithData)) ?? 0
                }
            }
            stream.pendingStart &+= sent
            if stream.pendingCount == 0 {
                stream.pendingStart = 0
                // A stream that once held a lot does not keep it (idle memory stays small).
                if stream.pending.capacity > 16 * 1024 { stream.pending = [] } else { stream.pending.removeAll(keepingCapacity: true) }
                if endWithData { stream.responseEnded = true }
            }
        }
        if stream.pendingCount == 0 && stream.endRequested && !stream.responseEnded {
            withMachine { machine in
                if let trailers = stream.trailers {
                    try? machine.sendTrailers(streamID: id, trailers)
                } else {
                    _ = try? machine.sendData(streamID: id, UnsafeRawBufferPointer(start: nil, count: 0), endStream: true)
                }
            }
            stream.trailers = nil
            stream.responseEnded = true
        }
        let wakeWriter = stream.writerWaiting && !stream.endRequested && stream.pendingCount < Self.streamBufferLimit / 2
        if wakeWriter { stream.writerWaiting = false }
        streams[id] = stream
        if stream.responseEnded { responseFinished(id) }
        if wakeWriter { delegate.responseWritable(streamID: id) }
    }

    /// The response is complete. If the request is too, the stream is done; if the client is
    /// still sending, the server does not need the rest: RST_STREAM NO_ERROR (RFC 9113 §8.1)
    /// stops it, and the delegate hears the abort so the body reader ends.
    func responseFinished(_ id: UInt32) {
        guard let stream = streams[id] else { return }
        if stream.requestEnded {
            finishIfDone(id)
            return
        }
        streams[id] = nil
        withMachine { machine in try? machine.resetStream(streamID: id, code: .noError) }
        streamGone(id, stream)
        delegate.requestAborted(streamID: id)
    }
}
