@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonHPACK

extension HTTP2Connection {
    private func checkOpen() throws(HTTP2UsageError) {
        if case .closed = state { throw .connectionClosed }
    }

    /// Starts a request on the next client stream and returns its identifier (client only).
    ///
    /// Throws when the peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached, after GOAWAY, or
    /// when stream identifiers are exhausted (§5.1.1: open a new connection).
    public mutating func startRequest(_ fields: [HPACKHeaderField], endStream: Bool) throws(HTTP2UsageError) -> UInt32 {
        var isHead = false
        var index = 0
        while index < fields.count {
            if fields[index].name == ":method" { isHead = fields[index].value == "HEAD" }
            index &+= 1
        }
        return try startRequest(isHead: isHead, endStream: endStream) { encoder, block in encoder.encode(fields, into: &block) }
    }

    /// Starts a request whose fields are bytes (no `String` round trip); see
    /// ``startRequest(_:endStream:)-([HPACKHeaderField],_)``. Build the list once and reuse it:
    /// sending it allocates nothing.
    public mutating func startRequest(_ fields: HTTP2HeaderList, endStream: Bool) throws(HTTP2UsageError) -> UInt32 {
        let isHead = fields.firstValue(named: ":method") { equals($0, "HEAD") }
        return try startRequest(isHead: isHead, endStream: endStream) { encoder, block in fields.encode(with: &encoder, into: &block) }
    }

    private mutating func startRequest(
        isHead: Bool, endStream: Bool, _ encode: (inout HPACKHeaderBlockEncoder, inout [UInt8]) -> Void
    ) throws(HTTP2UsageError) -> UInt32 {
        try checkOpen()
        guard role == .client else { throw .wrongRole }
        guard goawayReceivedLastStreamID == nil, goawaySentLastStreamID == nil else { throw .goawayReceived }
        guard nextLocalStreamID <= http2MaxStreamID else { throw .streamIDsExhausted }
        guard localStreamCount < peerSettings.maxConcurrentStreams else { throw .tooManyStreams }
        let id = nextLocalStreamID
        nextLocalStreamID &+= 2
        var stream = StreamState(phase: .open, sendWindow: peerSettings.initialWindowSize, receiveWindow: localInitialWindow)
        stream.sentFinalHead = true
        stream.requestWasHead = isHead
        insertStream(id, stream)
        writeHeaderBlock(streamID: id, promisedStreamID: 0, endStream: endStream, encode)
        if endStream { endLocal(id) }
        return id
    }

    /// Sends a head (response, 1xx included, or a pushed response) or trailers on a stream.
    ///
    /// After a final head, another HEADERS is trailers and must end the stream.
    public mutating func sendHeaders(streamID: UInt32, _ fields: [HPACKHeaderField], endStream: Bool) throws(HTTP2UsageError) {
        try sendHeaders(streamID: streamID, informational: Self.isInformational(fields), endStream: endStream) { encoder, block in
            encoder.encode(fields, into: &block)
        }
    }

    /// Sends a head or trailers whose fields are bytes (no `String` round trip); see
    /// ``sendHeaders(streamID:_:endStream:)-(_,[HPACKHeaderField],_)``. Build the list once and
    /// reuse it: sending it allocates nothing.
    public mutating func sendHeaders(streamID: UInt32, _ fields: HTTP2HeaderList, endStream: Bool) throws(HTTP2UsageError) {
        let informational = fields.firstValue(named: ":status") { $0.count > 0 && $0[0] == 0x31 }  // "1xx"; not `.first`, which allocates unoptimised
        try sendHeaders(streamID: streamID, informational: informational, endStream: endStream) { encoder, block in
            fields.encode(with: &encoder, into: &block)
        }
    }

    private mutating func sendHeaders(
        streamID: UInt32, informational: Bool, endStream: Bool, _ encode: (inout HPACKHeaderBlockEncoder, inout [UInt8]) -> Void
    ) throws(HTTP2UsageError) {
        try checkOpen()
        guard var stream = streams[streamID] else { throw .unknownStream(streamID) }
        switch stream.phase {
        case .open, .halfClosedRemote:
            if stream.sentFinalHead && !endStream { throw .endStreamAlreadySent(streamID) }
        case .reservedLocal:
            stream.phase = .halfClosedRemote
        case .halfClosedLocal, .reservedRemote:
            throw .streamNotWritable(streamID)
        }
        if !informational { stream.sentFinalHead = true }
        streams[streamID] = stream
        writeHeaderBlock(streamID: streamID, promisedStreamID: 0, endStream: endStream, encode)
        if endStream { endLocal(streamID) }
    }

    /// Sends trailers, ending the stream.
    public mutating func sendTrailers(streamID: UInt32, _ fields: [HPACKHeaderField]) throws(HTTP2UsageError) {
        guard let stream = streams[streamID], stream.sentFinalHead else { throw .streamNotWritable(streamID) }
        try sendHeaders(streamID: streamID, fields, endStream: true)
    }

    /// Sends trailers given as bytes, ending the stream.
    public mutating func sendTrailers(streamID: UInt32, _ fields: HTTP2HeaderList) throws(HTTP2UsageError) {
        guard let stream = streams[streamID], stream.sentFinalHead else { throw .streamNotWritable(streamID) }
        try sendHeaders(streamID: streamID, fields, endStream: true)
    }

    /// Sends as much of `data` as the flow-control windows allow, in frames of at most the
    /// peer's SETTINGS_MAX_FRAME_SIZE, and returns how many octets were sent.
    ///
    /// END_STREAM goes on the last frame only if every octet was sent; otherwise wait for
    /// ``HTTP2Event/windowUpdated(streamID:increment:)`` and send the rest. Empty `data` with
    /// `endStream` sends an empty DATA frame with END_STREAM.
    @discardableResult
    public mutating func sendData(streamID: UInt32, _ data: UnsafeRawBufferPointer, endStream: Bool) throws(HTTP2UsageError) -> Int {
        try checkOpen()
        guard let index = streams.index(forKey: streamID) else { throw .unknownStream(streamID) }
        guard streams.values[index].weMaySend, streams.values[index].sentFinalHead else { throw .streamNotWritable(streamID) }
        let allowed = max(0, min(data.count, connectionSendWindow, streams.values[index].sendWindow))
        let frameSize = peerSettings.maxFrameSize
        var sent = 0
        while sent < allowed {
            let chunk = min(allowed &- sent, frameSize)
            let last = sent &+ chunk == data.count
            HTTP2FrameEncoder.appendData(
                streamID: streamID, UnsafeRawBufferPointer(rebasing: data[sent..<(sent &+ chunk)]),
                endStream: endStream && last, into: &outbound)
            sent &+= chunk
        }
        if data.isEmpty && endStream {
            HTTP2FrameEncoder.appendData(streamID: streamID, data, endStream: true, into: &outbound)
        }
        connectionSendWindow &-= sent
        streams.values[index].sendWindow &-= sent
        if endStream && sent == data.count { endLocal(streamID) }
        return sent
    }

    /// Sends data held in an array; see ``sendData(streamID:_:endStream:)``.
    @discardableResult
    public mutating func sendData(streamID: UInt32, _ data: [UInt8], endStream: Bool) throws(HTTP2UsageError) -> Int {
        try data.withBytes { bytes throws(HTTP2UsageError) in
            try sendData(streamID: streamID, bytes, endStream: endStream)
        }
    }

    /// Resets a stream (RST_STREAM) and forgets it; frames still in flight on it are ignored.
    public mutating func resetStream(streamID: UInt32, code: HTTP2ErrorCode) throws(HTTP2UsageError) {
        try checkOpen()
        guard streams[streamID] != nil else { throw .unknownStream(streamID) }
        removeStream(streamID, resetByUs: true)
        HTTP2FrameEncoder.appendRSTStream(streamID: streamID, code: code, into: &outbound)
    }

    /// Sends a PING; its ACK comes back as ``HTTP2Event/pingAcknowledged(_:)``.
    public mutating func sendPing(_ opaque: UInt64) throws(HTTP2UsageError) {
        try checkOpen()
        HTTP2FrameEncoder.appendPing(opaque, ack: false, into: &outbound)
    }

    /// Sends new SETTINGS; limits that grow apply at once, limits that shrink once the peer
    /// acknowledges (so frames the peer sent under the old values stay valid).
    public mutating func updateSettings(_ settings: [HTTP2SettingsEntry]) throws(HTTP2UsageError) {
        try checkOpen()
        for setting in settings {
            let value = Int(setting.value)
            switch setting.parameter {
            case .initialWindowSize where value > http2MaxWindowSize,
                 .maxFrameSize where value < http2DefaultMaxFrameSize || value > http2MaxAllowedFrameSize,
                 .enablePush where value > 1 || role == .server:
                throw .invalidSetting(setting.parameter)
            default:
                break
            }
        }
        for setting in settings {
            let value = Int(setting.value)
            switch setting.parameter {
            case .headerTableSize where value > decoder.configuration.maxTableSize:
                decoder.setMaxTableSize(value)
            case .initialWindowSize where value > localInitialWindow:
                applyLocalInitialWindow(value)
            case .maxFrameSize:
                frameDecoder.maxFrameSize = max(frameDecoder.maxFrameSize, value)
                configuration.maxFrameSize = value
            case .maxConcurrentStreams:
                configuration.maxConcurrentStreams = value
            case .maxHeaderListSize where value > decoder.configuration.maxHeaderListSize:
                decoder.setMaxHeaderListSize(value)
            case .enablePush:
                configuration.enablePush = value == 1
            default:
                break
            }
        }
        HTTP2FrameEncoder.appendSettings(settings, into: &outbound)
        pendingLocalSettings.append(settings)
    }

    /// Returns flow-control credit for `count` octets of DATA the caller has processed
    /// (manual replenishment; a no-op for the stream once it is closed).
    public mutating func consume(streamID: UInt32, count: Int) {
        guard count > 0, !isClosed else { return }
        creditConnection(count)
        creditStream(streamID, count)
    }

    /// Sends GOAWAY now with the last peer stream we processed; new peer streams are ignored
    /// from here on. For errors, or when streams above need not finish.
    public mutating func sendGoaway(code: HTTP2ErrorCode, debugData: [UInt8] = []) {
        guard !isClosed else { return }
        debugData.withUnsafeBytes { debug in
            HTTP2FrameEncoder.appendGoaway(lastStreamID: highestPeerStreamID, code: code, debugData: debug, into: &outbound)
        }
        goawaySentLastStreamID = highestPeerStreamID
    }

    /// Starts a graceful shutdown (§6.8): a server sends GOAWAY with the largest stream id
    /// and a PING; when the PING's ACK is back, a second GOAWAY names the last stream it will
    /// process. Streams already open finish; ``isQuiescent`` says when to close.
    public mutating func beginGracefulShutdown() {
        guard !isClosed, goawaySentLastStreamID == nil else { return }
        if role == .server {
            HTTP2FrameEncoder.appendGoaway(lastStreamID: http2MaxStreamID, code: .noError, into: &outbound)
            HTTP2FrameEncoder.appendPing(Self.shutdownPingData, ack: false, into: &outbound)
            goawaySentLastStreamID = http2MaxStreamID
            shutdownPingPending = true
        } else {
            sendGoaway(code: .noError)
        }
    }

    mutating func finishGracefulShutdown() {
        HTTP2FrameEncoder.appendGoaway(lastStreamID: highestPeerStreamID, code: .noError, into: &outbound)
        goawaySentLastStreamID = highestPeerStreamID
    }

    /// Promises a pushed response on `streamID` (server only) and returns the promised stream,
    /// now reserved; send its response with ``sendHeaders(streamID:_:endStream:)-(_,[HPACKHeaderField],_)``.
    public mutating func pushPromise(streamID: UInt32, request: [HPACKHeaderField]) throws(HTTP2UsageError) -> UInt32 {
        try pushPromise(streamID: streamID) { encoder, block in encoder.encode(request, into: &block) }
    }

    /// Promises a pushed response whose request fields are bytes; see
    /// ``pushPromise(streamID:request:)-(_,[HPACKHeaderField])``.
    public mutating func pushPromise(streamID: UInt32, request: HTTP2HeaderList) throws(HTTP2UsageError) -> UInt32 {
        try pushPromise(streamID: streamID) { encoder, block in request.encode(with: &encoder, into: &block) }
    }

    private mutating func pushPromise(
        streamID: UInt32, _ encode: (inout HPACKHeaderBlockEncoder, inout [UInt8]) -> Void
    ) throws(HTTP2UsageError) -> UInt32 {
        try checkOpen()
        guard role == .server else { throw .wrongRole }
        guard peerSettings.enablePush else { throw .pushDisabled }
        guard let associated = streams[streamID], associated.phase == .open || associated.phase == .halfClosedRemote else {
            throw .streamNotWritable(streamID)
        }
        guard nextLocalStreamID <= http2MaxStreamID else { throw .streamIDsExhausted }
        guard localStreamCount < peerSettings.maxConcurrentStreams else { throw .tooManyStreams }
        let promised = nextLocalStreamID
        nextLocalStreamID &+= 2
        insertStream(promised, StreamState(
            phase: .reservedLocal, sendWindow: peerSettings.initialWindowSize, receiveWindow: localInitialWindow))
        writeHeaderBlock(streamID: streamID, promisedStreamID: promised, endStream: false, encode)
        return promised
    }

    /// Sends a PRIORITY_UPDATE (RFC 9218 §7.1) for one of our requests (client only).
    public mutating func sendPriorityUpdate(streamID: UInt32, _ priority: HTTP2Priority) throws(HTTP2UsageError) {
        try checkOpen()
        guard role == .client else { throw .wrongRole }
        var value = "u=\(priority.urgency)"
        if priority.incremental { value += ", i" }
        Array(value.utf8).withUnsafeBytes { bytes in
            HTTP2FrameEncoder.appendPriorityUpdate(prioritizedStreamID: streamID, fieldValue: bytes, into: &outbound)
        }
    }

    /// Whether a response head carries a 1xx `:status` (a counted loop over UTF-8: no
    /// allocation, even unoptimised).
    static func isInformational(_ fields: [HPACKHeaderField]) -> Bool {
        var index = 0
        while index < fields.count {
            if fields[index].name == ":status" { return fields[index].value.utf8.first == UInt8(ascii: "1") }
            index &+= 1
        }
        return false
    }

    /// We ended our side of the stream.
    mutating func endLocal(_ id: UInt32) {
        guard let index = streams.index(forKey: id) else { return }
        switch streams.values[index].phase {
        case .open: streams.values[index].phase = .halfClosedLocal
        default: removeStream(id)
        }
    }

    /// Encodes the fields once (through `encode`) and writes HEADERS (or PUSH_PROMISE) plus CONTINUATIONs, each at
    /// most the peer's SETTINGS_MAX_FRAME_SIZE.
    mutating func writeHeaderBlock(
        streamID: UInt32, promisedStreamID: UInt32, endStream: Bool, _ encode: (inout HPACKHeaderBlockEncoder, inout [UInt8]) -> Void
    ) {
        var block = encodeScratch
        encodeScratch = []
        block.removeAll(keepingCapacity: true)
        encode(&encoder, &block)
        let frameSize = peerSettings.maxFrameSize
        block.withUnsafeBytes { bytes in
            let firstCapacity = promisedStreamID == 0 ? frameSize : frameSize &- 4
            let first = min(bytes.count, firstCapacity)
            let firstFragment = UnsafeRawBufferPointer(rebasing: bytes[0..<first])
            if promisedStreamID == 0 {
                HTTP2FrameEncoder.appendHeaders(
                    streamID: streamID, fragment: firstFragment, endStream: endStream,
                    endHeaders: first == bytes.count, into: &outbound)
            } else {
                HTTP2FrameEncoder.appendPushPromise(
                    streamID: streamID, promisedStreamID: promisedStreamID, fragment: firstFragment,
                    endHeaders: first == bytes.count, into: &outbound)
            }
            var offset = first
            while offset < bytes.count {
                let chunk = min(bytes.count &- offset, frameSize)
                HTTP2FrameEncoder.appendContinuation(
                    streamID: streamID, fragment: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset &+ chunk)]),
                    endHeaders: offset &+ chunk == bytes.count, into: &outbound)
                offset &+= chunk
            }
        }
        encodeScratch = block
    }
}
