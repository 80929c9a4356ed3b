@_spi(EpsilonInternal) import EpsilonBytes

extension WebSocketConnection {
    // MARK: Sending

    /// Whether data frames may be sent: before our Close went out (after a failure the Close
    /// reporting it is already in the output).
    var maySendData: Bool {
        switch state {
        case .open, .closeReceived: return !sentClose
        case .closeSent, .closed, .failed: return false
        }
    }

    /// Whether a new data message may be sent now: the state allows data frames and no
    /// fragmented message of ours is unfinished.
    public var canStartMessage: Bool { maySendData && !sendingMessage }

    func nextMaskingKey() -> UInt32? {
        guard role == .client else { return nil }
        switch configuration.maskingKeys {
        case .fixed(let key): return key
        case .random: return UInt32.random(in: .min ... .max)
        }
    }

    /// Whether output is waiting for ``writeOutput(into:)``.
    public var hasPendingOutput: Bool { !output.isEmpty }

    /// Appends everything the connection has to send — the handler's frames, automatic Pongs,
    /// Close frames — in order, to `buffer`, and forgets it.
    ///
    /// When `buffer` is empty the two arrays trade storage instead of copying, so keep one
    /// buffer per connection and empty it with `removeAll(keepingCapacity: true)`: then
    /// neither side allocates in steady state.
    public mutating func writeOutput(into buffer: inout [UInt8]) {
        if output.isEmpty { return }
        if buffer.isEmpty {
            swap(&buffer, &output)
        } else {
            buffer.append(contentsOf: output)
        }
        output.removeAll(keepingCapacity: true)
        pongBytes = 0
        lastPong = 0..<0
    }

    /// Sends the first (or only) frame of a data message.
    ///
    /// - Parameters:
    ///   - kind: text or binary. For text the caller supplies UTF-8.
    ///   - payload: the frame's payload (already compressed if `compressed`).
    ///   - fin: false to continue the message with ``sendContinuation(_:fin:)``.
    ///   - compressed: set RSV1 (only when a compression extension was negotiated).
    /// - Throws: ``WebSocketUsageError/sendNotAllowed`` after our Close or inside an unfinished
    ///   message; ``WebSocketUsageError/compressionNotNegotiated`` for `compressed` without the extension.
    public mutating func send(_ kind: WebSocketMessageKind, payload: UnsafeRawBufferPointer, fin: Bool = true, compressed: Bool = false) throws(WebSocketUsageError) {
        guard maySendData, !sendingMessage else { throw .sendNotAllowed }
        if compressed && !configuration.allowsCompressedMessages { throw .compressionNotNegotiated }
        let header = WebSocketFrameHeader(fin: fin, reserved: compressed ? .rsv1 : [], opcode: kind.opcode, maskingKey: nextMaskingKey(), payloadLength: 0)
        WebSocketFrameEncoder.writeFrame(header, payload: payload, into: &output)
        sendingMessage = !fin
    }

    /// Sends a whole message in one frame from a byte sequence (an array, `string.utf8`).
    public mutating func send(_ kind: WebSocketMessageKind, bytes: some Sequence<UInt8>) throws(WebSocketUsageError) {
        let result: Result<Void, WebSocketUsageError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(WebSocketUsageError) in try send(kind, payload: UnsafeRawBufferPointer(buffer)) }
        }
        if let result { return try result.get() }
        try Array(bytes).withBytes { (raw) throws(WebSocketUsageError) in try send(kind, payload: raw) }
    }

    /// Sends a continuation frame of the message in progress (RSV1 is never set on it).
    public mutating func sendContinuation(_ payload: UnsafeRawBufferPointer, fin: Bool) throws(WebSocketUsageError) {
        guard maySendData, sendingMessage else { throw .sendNotAllowed }
        let header = WebSocketFrameHeader(fin: fin, opcode: .continuation, maskingKey: nextMaskingKey(), payloadLength: 0)
        WebSocketFrameEncoder.writeFrame(header, payload: payload, into: &output)
        sendingMessage = !fin
    }

    /// Sends a Ping (payload at most 125 bytes).
    public mutating func sendPing(_ payload: UnsafeRawBufferPointer) throws(WebSocketUsageError) {
        try sendControl(.ping, payload)
    }

    /// Sends an unsolicited or manual Pong (payload at most 125 bytes).
    public mutating func sendPong(_ payload: UnsafeRawBufferPointer) throws(WebSocketUsageError) {
        try sendControl(.pong, payload)
    }

    mutating func sendControl(_ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer) throws(WebSocketUsageError) {
        guard payload.count <= 125 else { throw .controlPayloadTooLong }
        guard maySendData else { throw .sendNotAllowed }
        let header = WebSocketFrameHeader(opcode: opcode, maskingKey: nextMaskingKey(), payloadLength: 0)
        WebSocketFrameEncoder.writeFrame(header, payload: payload, into: &output)
    }

    /// Sends a Close frame: starts the close handshake (and its timer), or answers the peer's
    /// Close from inside `handle`.
    ///
    /// - Parameters:
    ///   - code: the status code, or nil to send an empty Close. 1005, 1006, 1015 and every code
    ///     outside the allowed ranges are refused (RFC 6455 §7.4.1).
    ///   - reason: a UTF-8 reason; with the code it must fit in 125 bytes. Needs a code.
    ///   - now: the current time in nanoseconds; the peer has until `now` plus
    ///     ``Configuration/closeTimeout`` to answer (see ``nextDeadline``). From inside
    ///     `handle`, ``time`` is the time of the `receive` in progress.
    public mutating func sendClose(code: WebSocketCloseCode?, reason: String = "", now: UInt64) throws(WebSocketUsageError) {
        guard !sentClose else { throw .closeAlreadySent }
        if let code, !code.isValidOnWire { throw .invalidCloseCode }
        let reasonBytes = reason.utf8
        if code == nil && !reasonBytes.isEmpty { throw .invalidCloseReason }
        if reasonBytes.count > 123 { throw .invalidCloseReason }
        time = now
        writeCloseFrame(code, reason: reason)
        switch state {
        case .open:
            state = .closeSent
            let (deadline, overflow) = now.addingReportingOverflow(configuration.closeTimeout)
            closeDeadline = overflow ? .max : deadline
        case .closeReceived:
            state = .closed
        default:
            break
        }
    }

    mutating func writeCloseFrame(_ code: WebSocketCloseCode?, reason: String) {
        let key = nextMaskingKey()
        var length = 0
        if code != nil { length = 2 + reason.utf8.count }
        WebSocketFrameEncoder.writeHeader(WebSocketFrameHeader(opcode: .close, maskingKey: key, payloadLength: UInt64(length)), into: &output)
        if let code {
            let start = output.count
            output.append(UInt8(truncatingIfNeeded: code.rawValue >> 8))
            output.append(UInt8(truncatingIfNeeded: code.rawValue))
            output.append(contentsOf: reason.utf8)
            if let key {
                output.withUnsafeMutableBytes { all in
                    _ = WebSocketMasking.apply(key: key, phase: 0, to: UnsafeMutableRawBufferPointer(rebasing: all[start...]))
                }
            }
        }
        sentClose = true
    }
}
