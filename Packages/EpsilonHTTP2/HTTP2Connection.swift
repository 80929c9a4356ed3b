@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonHPACK

/// An HTTP/2 connection (RFC 9113) as a sans-IO machine, for either role.
///
/// Driven with the five verbs of `Documentation/DrivingAMachine.md`: feed the bytes that
/// arrived to ``receive(_:now:handler:)-(UnsafeRawBufferPointer,_,_)``; it hands each
/// ``HTTP2Event`` to your handler together with the connection, so the handler answers at once
/// (``sendHeaders(streamID:_:endStream:)-(_,[HPACKHeaderField],_)``,
/// ``sendData(streamID:_:endStream:)-(_,UnsafeRawBufferPointer,_)``, ...), and queues what the
/// protocol answers by itself (SETTINGS and PING ACKs, WINDOW_UPDATEs, RST_STREAMs, GOAWAY).
/// ``writeOutput(into:)`` appends all of it, in input order, to your buffer. Time is an input
/// (`now`, nanoseconds of a monotonic clock of your choice), used by the flood defenses'
/// windows and the SETTINGS timer; ``nextDeadline`` and ``handleTimeouts(now:)`` drive the timer.
///
/// Events are delivered to a generic handler so no closure or existential is paid per event;
/// DATA is a view into your buffer (or the machine's partial-frame buffer), and header lists
/// live in storage the machine reuses, so an open connection decodes DATA and HEADERS without
/// allocating once warm.
///
/// ```swift
/// struct Hello: HTTP2EventHandler {
///     mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) throws(HTTP2ConnectionError) {
///         guard case .headers(let stream, _, endStream: true) = event else { return }
///         try? connection.sendHeaders(streamID: stream, [HPACKHeaderField(":status", "204")], endStream: true)
///     }
/// }
/// var server = HTTP2Connection(role: .server)
/// var app = Hello()
/// try server.receive(bytesFromSocket, now: clock.now(), handler: &app)
/// server.writeOutput(into: &writeQueue)
/// ```
///
/// A connection error queues GOAWAY and throws ``HTTP2ConnectionError``; write the output
/// (the GOAWAY), then close. Stream errors queue RST_STREAM and surface as
/// ``HTTP2Event/streamReset(streamID:code:byPeer:)`` with `byPeer == false`.
public struct HTTP2Connection: Sendable {
    /// Which end of the connection this machine is.
    public enum Role: Hashable, Sendable {
        /// Sends the preface, starts requests on odd streams.
        case client
        /// Expects the preface, answers requests, pushes on even streams.
        case server
    }

    enum State: Sendable {
        /// Server: expecting the 24-octet client preface; `matched` octets seen so far.
        case awaitingPreface(matched: Int)
        /// The peer's first frame must be SETTINGS (§3.4).
        case awaitingSettings
        case active
        case closed(HTTP2ConnectionError)
    }

    /// A header block being assembled from HEADERS/PUSH_PROMISE and CONTINUATION frames.
    struct Assembly: Sendable {
        var streamID: UInt32
        /// The promised stream for PUSH_PROMISE, 0 for HEADERS.
        var promisedStreamID: UInt32
        var endStream: Bool
        var continuations: Int
        /// The HEADERS made the stream depend on itself (§5.3.1): reset after decoding.
        var dependsOnItself: Bool
    }

    /// This machine's role.
    public let role: Role
    /// The configuration it was made with (our settings and the defense bounds).
    public internal(set) var configuration: HTTP2Configuration
    /// The peer's settings in force.
    public internal(set) var peerSettings = HTTP2Settings()

    var state: State
    var streams: [UInt32: StreamState] = [:]
    var peerStreamCount = 0
    var localStreamCount = 0
    var highestPeerStreamID: UInt32 = 0
    var nextLocalStreamID: UInt32
    var peerStreamsOpened = 0
    /// The last 64 streams closed, the top bit set for those we reset: frames on a stream we
    /// reset are ignored (§5.1 "closed"), frames on other closed streams are STREAM_CLOSED, and
    /// a lower identifier never used is PROTOCOL_ERROR (§5.1.1). Bounded, whatever the peer does.
    var recentlyClosed: [UInt32] = Array(repeating: 0, count: 64)
    var recentlyClosedCursor = 0

    var decoder: HPACKHeaderBlockDecoder
    var encoder = HPACKHeaderBlockEncoder()
    var frameDecoder: HTTP2FrameDecoder
    var inbound: [UInt8] = []
    var headerBlock: [UInt8] = []
    var assembly: Assembly?
    var headerList = HTTP2HeaderList()
    var outbound: [UInt8] = []
    var encodeScratch: [UInt8] = []

    var connectionSendWindow = 65_535
    var connectionReceiveWindow = 65_535
    var connectionUnacknowledged = 0
    /// Our SETTINGS_INITIAL_WINDOW_SIZE as the receive windows use it.
    var localInitialWindow = 65_535
    /// SETTINGS we sent and the peer has not acknowledged, oldest first.
    var pendingLocalSettings: [[HTTP2SettingsEntry]] = []
    /// When the oldest unacknowledged SETTINGS began waiting, as first seen through `now`.
    var settingsWaitStart: UInt64?

    /// The last stream id in the GOAWAY we sent, if any.
    public internal(set) var goawaySentLastStreamID: UInt32?
    /// The last stream id in the GOAWAY the peer sent, if any.
    public internal(set) var goawayReceivedLastStreamID: UInt32?
    var shutdownPingPending = false
    static let shutdownPingData: UInt64 = 0x4550_5349_4c4f_4e47  // "EPSILONG"

    var now: UInt64 = 0
    /// Octets received since the machine was made, and where the frame being processed began
    /// in that stream (the ``HTTP2ConnectionError/offset`` of an error it causes).
    var receivedCount = 0
    var frameStart = 0
    /// Where a frame buffered in `inbound` began.
    var inboundStart = 0
    /// Set while `receive` runs: a handler must not call it again.
    var isReceiving = false
    var pendingSettingsAcks = 0
    var pendingPingAcks = 0
    var resets = FloodCounter()
    var emptyFrames = FloodCounter()
    var priorityFrames = FloodCounter()

    /// Makes a connection machine and queues its opening bytes: a client's preface and
    /// SETTINGS, a server's SETTINGS (plus a connection WINDOW_UPDATE if the configured
    /// connection window is above 65 535).
    public init(role: Role, configuration: HTTP2Configuration = HTTP2Configuration()) {
        precondition(configuration.maxFrameSize >= 16_384 && configuration.maxFrameSize <= http2MaxAllowedFrameSize,
                     "maxFrameSize must be 16384...16777215")
        precondition(configuration.initialWindowSize >= 0 && configuration.initialWindowSize <= http2MaxWindowSize
                     && configuration.connectionWindowSize >= 65_535 && configuration.connectionWindowSize <= http2MaxWindowSize,
                     "windows must be within 0...2^31-1 (connection window at least 65535)")
        self.role = role
        self.configuration = configuration
        state = role == .server ? .awaitingPreface(matched: 0) : .awaitingSettings
        nextLocalStreamID = role == .client ? 1 : 2
        // Until our SETTINGS is acknowledged the peer may use the RFC's 4096-octet table.
        decoder = HPACKHeaderBlockDecoder(configuration: .init(
            maxTableSize: max(4096, configuration.headerTableSize),
            maxHeaderListSize: configuration.maxHeaderListSize,
            maxStringLength: max(configuration.maxHeaderListSize, 1),
            forbiddenCharacters: .flag))
        frameDecoder = HTTP2FrameDecoder(maxFrameSize: configuration.maxFrameSize)
        localInitialWindow = max(65_535, configuration.initialWindowSize)
        if role == .client { outbound.append(contentsOf: http2ClientPreface) }
        let settings = initialSettings()
        HTTP2FrameEncoder.appendSettings(settings, into: &outbound)
        pendingLocalSettings.append(settings)
        if configuration.connectionWindowSize > 65_535 {
            let increment = configuration.connectionWindowSize - 65_535
            HTTP2FrameEncoder.appendWindowUpdate(streamID: 0, increment: UInt32(increment), into: &outbound)
            connectionReceiveWindow = configuration.connectionWindowSize
        }
    }

    func initialSettings() -> [HTTP2SettingsEntry] {
        var settings: [HTTP2SettingsEntry] = []
        if configuration.headerTableSize != 4096 {
            settings.append(HTTP2SettingsEntry(.headerTableSize, UInt32(clamping: configuration.headerTableSize)))
        }
        if role == .client { settings.append(HTTP2SettingsEntry(.enablePush, configuration.enablePush ? 1 : 0)) }
        settings.append(HTTP2SettingsEntry(.maxConcurrentStreams, UInt32(clamping: configuration.maxConcurrentStreams)))
        if configuration.initialWindowSize != 65_535 {
            settings.append(HTTP2SettingsEntry(.initialWindowSize, UInt32(configuration.initialWindowSize)))
        }
        if configuration.maxFrameSize != 16_384 {
            settings.append(HTTP2SettingsEntry(.maxFrameSize, UInt32(configuration.maxFrameSize)))
        }
        settings.append(HTTP2SettingsEntry(.maxHeaderListSize, UInt32(clamping: configuration.maxHeaderListSize)))
        if role == .server && configuration.enableConnectProtocol {
            settings.append(HTTP2SettingsEntry(.enableConnectProtocol, 1))
        }
        return settings
    }

    // MARK: State queries

    /// Whether a connection error ended the machine (GOAWAY queued).
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// The connection error that ended the machine, if any.
    public var connectionError: HTTP2ConnectionError? {
        if case .closed(let error) = state { return error }
        return nil
    }

    /// Whether GOAWAY was sent or received and no stream is left: the transport may close.
    public var isQuiescent: Bool {
        (goawaySentLastStreamID != nil || goawayReceivedLastStreamID != nil || isClosed) && streams.isEmpty
    }

    /// Streams with a record (open, half-closed or reserved).
    public var activeStreamCount: Int { streams.count }

    /// Octets waiting in the output buffer.
    public var pendingOutputCount: Int { outbound.count }

    /// What may be sent on `streamID` now: the smaller of the connection and stream windows.
    public func sendWindow(streamID: UInt32) -> Int {
        guard let stream = streams[streamID] else { return 0 }
        return max(0, min(connectionSendWindow, stream.sendWindow))
    }

    /// The connection-level send window.
    public var connectionSendWindowSize: Int { connectionSendWindow }

    // MARK: Output

    /// Appends everything the machine has to send, in order, to `buffer` and forgets it (the
    /// **writeOutput** verb): pass the transport's write queue, and the bytes are copied once.
    /// The machine's own buffer keeps its capacity, so steady-state output allocates nothing
    /// (an idle connection frees it if it grew above 1 KB). The pending-ACK counts of the
    /// flood defenses restart.
    public mutating func writeOutput(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: outbound)
        if outbound.capacity > Self.idleBufferLimit && streams.isEmpty {
            outbound = []
        } else {
            outbound.removeAll(keepingCapacity: true)
        }
        pendingPingAcks = 0
        pendingSettingsAcks = 0
    }

    /// Buffers above this many octets are freed when the connection goes idle (no stream,
    /// no partial frame): what only a busy connection needs does not stay with an idle one,
    /// while a connection serving small requests one after another keeps its small buffers
    /// and allocates nothing per request.
    static let idleBufferLimit = 1024

    /// Frees the large buffers if no stream is open and no frame or header block is partial.
    mutating func releaseBuffersIfIdle() {
        guard streams.isEmpty, inbound.isEmpty, assembly == nil else { return }
        let limit = Self.idleBufferLimit
        if inbound.capacity > limit { inbound = [] }
        if headerBlock.capacity > limit { headerBlock = [] }
        if encodeScratch.capacity > limit { encodeScratch = [] }
        headerList.releaseStorage(above: limit)
        decoder.releaseScratch(above: limit)
        // A dictionary keeps the capacity of its busiest moment.
        if streams.capacity > 8 { streams = [:] }
    }

    /// Bytes of heap the machine holds beyond its own inline size: buffers, tables, stream
    /// records (capacities, so what malloc holds, less its per-block overhead). For tests.
    package var heapBytes: Int {
        let streamBytes = streams.capacity &* (MemoryLayout<UInt32>.stride &+ MemoryLayout<StreamState>.stride)
        return decoder.heapBytes &+ encoder.heapBytes &+ inbound.capacity &+ headerBlock.capacity
            &+ outbound.capacity &+ encodeScratch.capacity &+ headerList.heapBytes &+ recentlyClosed.capacity &* 4
            &+ streamBytes
    }

    /// Returns the bytes to write and empties the buffer (allocates; for tests and tools).
    package mutating func takeOutput() -> [UInt8] {
        var output: [UInt8] = []
        writeOutput(into: &output)
        return output
    }

    // MARK: Input

    /// Feeds received bytes (the **receive** verb): any split of the stream gives the same
    /// events, and every byte is consumed (a partial frame is kept by the machine), so the
    /// return value is always `bytes.count`.
    ///
    /// Events go to `handler` in order, each with this connection passed back to it in a
    /// consistent state: the handler may answer at once (``sendHeaders(streamID:_:endStream:)``,
    /// ``sendData(streamID:_:endStream:)``, ``consume(streamID:count:)``,
    /// ``resetStream(streamID:code:)``, ...), and what it sends lands in the output right after
    /// what the machine produced itself for the input so far (SETTINGS and PING ACKs,
    /// WINDOW_UPDATEs, RST_STREAMs), so frames leave in the order of the input that caused them.
    /// Calling `receive` (or ``handleTimeouts(now:)``) on the connection from inside `handle`
    /// is a programming error and traps.
    ///
    /// `now` is the time in nanoseconds of a monotonic clock of your choice; the flood
    /// defenses' windows and the SETTINGS timer run on it. Throws ``HTTP2ConnectionError`` on a
    /// connection error (its ``HTTP2ConnectionError/offset`` is where the offending frame began
    /// in the stream received since the machine was made), after queueing GOAWAY; every later
    /// call throws it again. A handler may throw one too: the machine then fails the same way.
    @discardableResult
    public mutating func receive<Handler: HTTP2EventHandler>(
        _ bytes: UnsafeRawBufferPointer, now: UInt64, handler: inout Handler
    ) throws(HTTP2ConnectionError) -> Int {
        if case .closed(let error) = state { throw error }
        precondition(!isReceiving, "HTTP2Connection.receive called from inside handle(_:connection:)")
        isReceiving = true
        defer { isReceiving = false }
        self.now = now
        if settingsWaitStart == nil && !pendingLocalSettings.isEmpty { settingsWaitStart = now }
        do {
            try consume(bytes, &handler)
            receivedCount &+= bytes.count
            frameStart = receivedCount
            try checkSettingsTimeout()
            releaseBuffersIfIdle()
        } catch {
            var error = error
            if error.offset < 0 { error.offset = frameStart }
            fail(error)
            throw error
        }
        return bytes.count
    }

    /// Feeds received bytes held in a span; see ``receive(_:now:handler:)-(UnsafeRawBufferPointer,_,_)``.
    @discardableResult
    public mutating func receive<Handler: HTTP2EventHandler>(
        _ bytes: RawSpan, now: UInt64, handler: inout Handler
    ) throws(HTTP2ConnectionError) -> Int {
        try bytes.withUnsafeBytes { buffer throws(HTTP2ConnectionError) in
            try receive(buffer, now: now, handler: &handler)
        }
    }

    /// Feeds received bytes held in an array; see ``receive(_:now:handler:)-(UnsafeRawBufferPointer,_,_)``.
    @discardableResult
    public mutating func receive<Handler: HTTP2EventHandler>(
        _ bytes: [UInt8], now: UInt64, handler: inout Handler
    ) throws(HTTP2ConnectionError) -> Int {
        try bytes.withBytes { buffer throws(HTTP2ConnectionError) in
            try receive(buffer, now: now, handler: &handler)
        }
    }

    // MARK: Time

    /// When ``handleTimeouts(now:)`` must be called next, on the clock `receive` is given;
    /// `nil` when no timer runs.
    ///
    /// The only timer is SETTINGS_TIMEOUT (RFC 9113 §6.5.3): it runs while SETTINGS we sent
    /// wait for their ACK, from the first time the machine is given after sending them (a
    /// `receive` or a `handleTimeouts(now:)` call; call `handleTimeouts(now:)` once after
    /// making the machine to start it before the peer's first byte).
    public var nextDeadline: UInt64? {
        guard case .closed = state else {
            guard let start = settingsWaitStart, !pendingLocalSettings.isEmpty else { return nil }
            let (deadline, overflow) = start.addingReportingOverflow(configuration.settingsTimeout)
            return overflow ? UInt64.max : deadline &+ 1
        }
        return nil
    }

    /// Applies the rules that need only time (the **time** verb): SETTINGS not acknowledged
    /// within ``HTTP2Configuration/settingsTimeout`` is a connection error of type
    /// SETTINGS_TIMEOUT (RFC 9113 §6.5.3), thrown after queueing GOAWAY. Call it when
    /// ``nextDeadline`` has passed; ``receive(_:now:handler:)-(UnsafeRawBufferPointer,_,_)``
    /// checks too.
    public mutating func handleTimeouts(now: UInt64) throws(HTTP2ConnectionError) {
        if case .closed(let error) = state { throw error }
        precondition(!isReceiving, "HTTP2Connection.handleTimeouts called from inside handle(_:connection:)")
        self.now = now
        if settingsWaitStart == nil && !pendingLocalSettings.isEmpty { settingsWaitStart = now }
        do {
            try checkSettingsTimeout()
        } catch {
            var error = error
            if error.offset < 0 { error.offset = receivedCount }
            fail(error)
            throw error
        }
    }

    private func checkSettingsTimeout() throws(HTTP2ConnectionError) {
        if let start = settingsWaitStart, !pendingLocalSettings.isEmpty, now >= start,
           now - start > configuration.settingsTimeout {
            throw HTTP2ConnectionError(.settingsTimeout, code: .settingsTimeout)
        }
    }

    /// Feeds bytes and returns owned copies of the events (allocates; for tests and tools).
    /// Events before a connection error are lost with it: use a handler to keep them.
    package mutating func receive(_ bytes: [UInt8], now: UInt64) throws(HTTP2ConnectionError) -> [HTTP2OwnedEvent] {
        var collector = HTTP2EventCollector()
        try receive(bytes, now: now, handler: &collector)
        return collector.events
    }

    mutating func fail(_ error: HTTP2ConnectionError) {
        if case .closed = state { return }
        let debug = error.frameRule?.rawValue ?? error.rule.rawValue
        Array(debug.utf8).withUnsafeBytes { debugBytes in
            HTTP2FrameEncoder.appendGoaway(lastStreamID: highestPeerStreamID, code: error.code, debugData: debugBytes, into: &outbound)
        }
        goawaySentLastStreamID = highestPeerStreamID
        state = .closed(error)
    }

    private mutating func consume<Handler: HTTP2EventHandler>(
        _ bytes: UnsafeRawBufferPointer, _ handler: inout Handler
    ) throws(HTTP2ConnectionError) {
        var offset = 0
        let count = bytes.count
        if case .awaitingPreface(var matched) = state {
            while matched < http2ClientPreface.count && offset < count {
                guard bytes[offset] == http2ClientPreface[matched] else {
                    frameStart = receivedCount &+ offset
                    throw HTTP2ConnectionError(.invalidPreface, code: .protocolError)
                }
                matched &+= 1
                offset &+= 1
            }
            guard matched == http2ClientPreface.count else {
                state = .awaitingPreface(matched: matched)
                return
            }
            state = .awaitingSettings
        }
        while offset < count {
            if inbound.isEmpty {
                frameStart = receivedCount &+ offset
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                guard let header = HTTP2FrameDecoder.header(rest) else {
                    inboundStart = frameStart
                    inbound.append(contentsOf: rest)
                    return
                }
                try checkSize(header)
                let total = HTTP2FrameHeader.size &+ header.length
                guard rest.count >= total else {
                    inboundStart = frameStart
                    inbound.append(contentsOf: rest)
                    return
                }
                try process(header, UnsafeRawBufferPointer(rebasing: rest[HTTP2FrameHeader.size..<total]), &handler)
                offset &+= total
            } else {
                frameStart = inboundStart
                // Complete the buffered frame with just the octets it lacks.
                if inbound.count < HTTP2FrameHeader.size {
                    let take = min(HTTP2FrameHeader.size &- inbound.count, count &- offset)
                    inbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset &+ take)]))
                    offset &+= take
                    if inbound.count < HTTP2FrameHeader.size { return }
                }
                let header = inbound.withUnsafeBytes { HTTP2FrameDecoder.header($0)! }
                try checkSize(header)
                let total = HTTP2FrameHeader.size &+ header.length
                let take = min(total &- inbound.count, count &- offset)
                inbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset &+ take)]))
                offset &+= take
                if inbound.count < total { return }
                var frame = inbound
                inbound = []
                defer {
                    frame.removeAll(keepingCapacity: true)
                    inbound = frame
                }
                try frame.withBytes { buffer throws(HTTP2ConnectionError) in
                    try process(header, UnsafeRawBufferPointer(rebasing: buffer[HTTP2FrameHeader.size...]), &handler)
                }
            }
        }
    }

    private func checkSize(_ header: HTTP2FrameHeader) throws(HTTP2ConnectionError) {
        if header.length > frameDecoder.maxFrameSize {
            throw HTTP2ConnectionError(.malformedFrame, code: .frameSizeError, streamID: header.streamID, frameRule: .frameTooLarge)
        }
    }

    // MARK: Stream bookkeeping

    /// Whether `id` belongs to the peer's half of the identifier space.
    @inline(__always)
    func isPeerInitiated(_ id: UInt32) -> Bool { (id & 1 == 1) == (role == .server) }

    /// Whether `id` is idle: never used by its initiator (§5.1.1).
    func isIdle(_ id: UInt32) -> Bool {
        isPeerInitiated(id) ? id > highestPeerStreamID : id >= nextLocalStreamID
    }

    /// How a recently closed stream ended: `nil` if not among the last 64 closed.
    func closure(of id: UInt32) -> (resetByUs: Bool, found: Bool) {
        var index = 0
        while index < recentlyClosed.count {
            let entry = recentlyClosed[index]
            if entry & http2MaxStreamID == id && id != 0 { return (entry & 0x8000_0000 != 0, true) }
            index &+= 1
        }
        return (false, false)
    }

    func wasRecentlyReset(_ id: UInt32) -> Bool {
        let record = closure(of: id)
        return record.found && record.resetByUs
    }

    mutating func insertStream(_ id: UInt32, _ stream: StreamState) {
        if streams.updateValue(stream, forKey: id) == nil {
            if isPeerInitiated(id) { peerStreamCount &+= 1 } else { localStreamCount &+= 1 }
        }
    }

    /// Closes a stream and remembers how (see `recentlyClosed`).
    mutating func removeStream(_ id: UInt32, resetByUs: Bool = false) {
        if streams.removeValue(forKey: id) != nil {
            if isPeerInitiated(id) { peerStreamCount &-= 1 } else { localStreamCount &-= 1 }
        }
        recentlyClosed[recentlyClosedCursor] = id | (resetByUs ? 0x8000_0000 : 0)
        recentlyClosedCursor = (recentlyClosedCursor &+ 1) & 63
    }

    /// A stream error (§5.4.2): RST_STREAM queued, the stream closed and remembered, the
    /// handler told, and the reset counted against the rapid-reset bound.
    mutating func streamError<Handler: HTTP2EventHandler>(
        _ id: UInt32, _ code: HTTP2ErrorCode, _ handler: inout Handler, countsAsReset: Bool = true
    ) throws(HTTP2ConnectionError) {
        removeStream(id, resetByUs: true)
        HTTP2FrameEncoder.appendRSTStream(streamID: id, code: code, into: &outbound)
        try handler.handle(.streamReset(streamID: id, code: code, byPeer: false), connection: &self)
        if countsAsReset { try countReset(id) }
    }

    mutating func countReset(_ id: UInt32) throws(HTTP2ConnectionError) {
        if !resets.record(now: now, window: configuration.floodWindow, limit: configuration.maxResetsPerWindow) {
            throw HTTP2ConnectionError(.rapidReset, code: .enhanceYourCalm, streamID: id)
        }
    }

    // MARK: Flow-control credit

    /// Returns `count` octets of connection credit to the peer, in one WINDOW_UPDATE once
    /// half the connection window is owed.
    mutating func creditConnection(_ count: Int) {
        guard count > 0 else { return }
        // Never grant more than brings the peer's window to 2^31-1 (a caller's `consume` may
        // overstate what it read; the rest is dropped rather than overflowing the peer).
        connectionUnacknowledged = min(connectionUnacknowledged &+ count, http2MaxWindowSize &- connectionReceiveWindow)
        if connectionUnacknowledged > 0 && connectionUnacknowledged >= configuration.connectionWindowSize / 2 {
            HTTP2FrameEncoder.appendWindowUpdate(streamID: 0, increment: UInt32(connectionUnacknowledged), into: &outbound)
            connectionReceiveWindow &+= connectionUnacknowledged
            connectionUnacknowledged = 0
        }
    }

    /// Returns `count` octets of stream credit, once half the stream window is owed, while
    /// the peer may still send on it.
    mutating func creditStream(_ id: UInt32, _ count: Int) {
        guard count > 0, let index = streams.index(forKey: id) else { return }
        creditStream(at: index, count)
    }

    /// ``creditStream(_:_:)`` for a stream already found: one read and one write of its
    /// state, no second hash lookup (DATA is the hot path).
    mutating func creditStream(at index: Dictionary<UInt32, StreamState>.Index, _ count: Int) {
        guard count > 0 else { return }
        var stream = streams.values[index]
        guard stream.peerMaySend else { return }
        let room = http2MaxWindowSize &- stream.receiveWindow
        stream.unacknowledged = min(stream.unacknowledged &+ count, room, http2MaxWindowSize)
        let owed = stream.unacknowledged
        guard owed > 0 else {
            streams.values[index] = stream
            return
        }
        // As sendOwedCredit(at:): once half the window is owed, or at once when it is used up.
        if owed >= max(1, localInitialWindow / 2) || stream.receiveWindow <= 0 {
            HTTP2FrameEncoder.appendWindowUpdate(streamID: streams.keys[index], increment: UInt32(owed), into: &outbound)
            stream.receiveWindow &+= owed
            stream.unacknowledged = 0
        }
        streams.values[index] = stream
    }

    /// Sends a stream's owed credit once half the window is owed, or at once when the peer's
    /// window is used up (after a SETTINGS_INITIAL_WINDOW_SIZE cut it can be negative, and no
    /// DATA would ever come to trigger the half-window rule).
    mutating func sendOwedCredit(at index: Dictionary<UInt32, StreamState>.Index) {
        let owed = streams.values[index].unacknowledged
        guard owed > 0 else { return }
        if owed >= max(1, localInitialWindow / 2) || streams.values[index].receiveWindow <= 0 {
            HTTP2FrameEncoder.appendWindowUpdate(streamID: streams.keys[index], increment: UInt32(owed), into: &outbound)
            streams.values[index].receiveWindow &+= owed
            streams.values[index].unacknowledged = 0
        }
    }
}
