extension Connection {
    // MARK: Sending

    /// Whether data frames may be sent: before our Close went out. After a failure that is
    /// until the queued Close is written, so replies to messages that arrived complete before
    /// the bad frame can still go out first (Autobahn checks this order).
    var maySendData: Bool {
        switch state {
        case .open, .closeReceived, .failed: return !sentClose
        case .closeSent, .closed: return false
        }
    }

    mutating func nextMaskingKey() -> UInt32? {
        guard role == .client else { return nil }
        switch configuration.maskingKeys {
        case .fixed(let key): return key
        case .random: return UInt32.random(in: .min ... .max)
        }
    }

    /// Appends the first (or only) frame of a data message.
    ///
    /// - Parameters:
    ///   - kind: text or binary. For text the caller supplies UTF-8.
    ///   - payload: the frame's payload (already compressed if `compressed`).
    ///   - fin: false to continue the message with ``sendContinuation(_:fin:into:)``.
    ///   - compressed: set RSV1 (only when a compression extension was negotiated).
    /// - Throws: ``WebSocketError/Rule/sendNotAllowed`` after our Close or inside an unfinished
    ///   message; ``WebSocketError/Rule/invalidArgument`` for `compressed` without the extension.
    public mutating func send(_ kind: MessageKind, payload: UnsafeRawBufferPointer, fin: Bool = true, compressed: Bool = false, into output: inout [UInt8]) throws(WebSocketError) {
        guard maySendData, !sendingMessage else { throw WebSocketError(.sendNotAllowed) }
        if compressed && !configuration.allowsCompressedMessages { throw WebSocketError(.invalidArgument) }
        let header = FrameHeader(fin: fin, reserved: compressed ? .rsv1 : [], opcode: kind.opcode, maskingKey: nextMaskingKey(), payloadLength: 0)
        FrameEncoder.writeFrame(header, payload: payload, into: &output)
        sendingMessage = !fin
    }

    /// Appends a whole message in one frame from an array or string's bytes.
    public mutating func send(_ kind: MessageKind, bytes: some Sequence<UInt8>, into output: inout [UInt8]) throws(WebSocketError) {
        let array = Array(bytes)
        let result: Result<Void, WebSocketError> = array.withUnsafeBytes { raw in
            Result { () throws(WebSocketError) in try send(kind, payload: raw, into: &output) }
        }
        try result.get()
    }

    /// Appends a continuation frame of the message in progress (RSV1 is never set on it).
    public mutating func sendContinuation(_ payload: UnsafeRawBufferPointer, fin: Bool, into output: inout [UInt8]) throws(WebSocketError) {
        guard maySendData, sendingMessage else { throw WebSocketError(.sendNotAllowed) }
        let header = FrameHeader(fin: fin, opcode: .continuation, maskingKey: nextMaskingKey(), payloadLength: 0)
        FrameEncoder.writeFrame(header, payload: payload, into: &output)
        sendingMessage = !fin
    }

    /// Appends a Ping (payload at most 125 bytes).
    public mutating func sendPing(_ payload: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(WebSocketError) {
        try sendControl(.ping, payload, into: &output)
    }

    /// Appends an unsolicited or manual Pong (payload at most 125 bytes).
    public mutating func sendPong(_ payload: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(WebSocketError) {
        try sendControl(.pong, payload, into: &output)
    }

    mutating func sendControl(_ opcode: Opcode, _ payload: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(WebSocketError) {
        guard payload.count <= 125 else { throw WebSocketError(.invalidArgument) }
        guard maySendData else { throw WebSocketError(.sendNotAllowed) }
        let header = FrameHeader(opcode: opcode, maskingKey: nextMaskingKey(), payloadLength: 0)
        FrameEncoder.writeFrame(header, payload: payload, into: &output)
    }

    /// Appends a Close frame and moves to closing (or closed, when answering the peer's Close).
    ///
    /// - Parameters:
    ///   - code: the status code, or nil to send an empty Close. 1005, 1006, 1015 and every code
    ///     outside the allowed ranges are refused (RFC 6455 §7.4.1).
    ///   - reason: a UTF-8 reason; with the code it must fit in 125 bytes. Needs a code.
    public mutating func sendClose(code: CloseCode?, reason: String = "", into output: inout [UInt8]) throws(WebSocketError) {
        guard !sentClose else { throw WebSocketError(.sendNotAllowed) }
        if let code, !code.isValidOnWire { throw WebSocketError(.invalidCloseCode) }
        let reasonBytes = reason.utf8
        if code == nil && !reasonBytes.isEmpty { throw WebSocketError(.invalidCloseReason) }
        if reasonBytes.count > 123 { throw WebSocketError(.invalidCloseReason) }
        writeClose(code, reason: reason, into: &output)
    }

    mutating func writeClose(_ code: CloseCode?, reason: String, into output: inout [UInt8]) {
        let key = nextMaskingKey()
        var length = 0
        if code != nil { length = 2 + reason.utf8.count }
        FrameEncoder.writeHeader(FrameHeader(opcode: .close, maskingKey: key, payloadLength: UInt64(length)), into: &output)
        if let code {
            let start = output.count
            output.append(UInt8(truncatingIfNeeded: code.rawValue >> 8))
            output.append(UInt8(truncatingIfNeeded: code.rawValue))
            output.append(contentsOf: reason.utf8)
            if let key {
                output.withUnsafeMutableBytes { all in
                    _ = Masking.apply(key: key, phase: 0, to: UnsafeMutableRawBufferPointer(rebasing: all[start...]))
                }
            }
        }
        sentClose = true
        pendingClose = .none
        queuedPongs.removeAll(keepingCapacity: true)
        switch state {
        case .open: state = .closeSent
        case .closeReceived: state = .closed
        default: break
        }
    }

    /// Appends the frames the connection queued on its own: the automatic Pongs, the reply to
    /// the peer's Close, or the Close reporting a failure. Does nothing when none is queued.
    public mutating func writePendingFrames(into output: inout [UInt8]) {
        if !queuedPongs.isEmpty {
            output.append(contentsOf: queuedPongs)
            queuedPongs.removeAll(keepingCapacity: true)
        }
        switch pendingClose {
        case .none: break
        case .withoutCode: writeClose(nil, reason: "", into: &output)
        case .code(let code): writeClose(code, reason: "", into: &output)
        }
    }
}
