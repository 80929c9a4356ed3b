/// The settings an endpoint announces and the bounds it enforces on its peer.
///
/// Every bound has a safe default and is there because a peer once abused its absence:
/// rapid reset (CVE-2023-44487), CONTINUATION floods (2024), HPACK bombs, SETTINGS/PING
/// floods, empty-frame floods, PRIORITY floods. Memory per connection stays bounded by these
/// values whatever the peer sends.
public struct HTTP2Configuration: Sendable {
    /// How receive windows are replenished.
    public enum WindowReplenishment: Hashable, Sendable {
        /// The machine returns credit as soon as DATA is handed to the handler.
        case automatic
        /// The caller returns credit with ``HTTP2Connection/consume(streamID:count:)`` when
        /// it has processed the data (backpressure).
        case manual
    }

    // MARK: Our SETTINGS (RFC 9113 §6.5.2)

    /// SETTINGS_HEADER_TABLE_SIZE: the HPACK table size our decoder allows (default 4096).
    public var headerTableSize: Int = 4096
    /// SETTINGS_ENABLE_PUSH (clients only): whether we accept PUSH_PROMISE (default off).
    public var enablePush: Bool = false
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams the peer may have open at once (default 100).
    public var maxConcurrentStreams: Int = 100
    /// SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window (default 65 535).
    public var initialWindowSize: Int = 65_535
    /// SETTINGS_MAX_FRAME_SIZE: the largest frame we accept (default 16 384).
    public var maxFrameSize: Int = 16_384
    /// SETTINGS_MAX_HEADER_LIST_SIZE: the largest decoded header list (RFC 9113 §6.5.2
    /// counting); also the HPACK-bomb bound (default 64 KiB).
    public var maxHeaderListSize: Int = 65_536
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3, servers only): announce extended
    /// CONNECT, so requests may carry `:protocol` (default off: `:protocol` is malformed).
    public var enableConnectProtocol: Bool = false

    // MARK: Flow control

    /// The connection-level receive window (raised from 65 535 with a WINDOW_UPDATE at start).
    public var connectionWindowSize: Int = 65_535
    /// Automatic or manual window replenishment (default automatic).
    public var windowReplenishment: WindowReplenishment = .automatic

    // MARK: Defenses

    /// The largest header block (HEADERS or PUSH_PROMISE plus CONTINUATIONs), in octets
    /// before decompression (default 64 KiB).
    public var maxHeaderBlockSize: Int = 65_536
    /// The most CONTINUATION frames in one header block, since empty ones never grow the
    /// buffer (default 8, as nghttp2).
    public var maxContinuationFrames: Int = 8
    /// The window over which flood counters count, in nanoseconds of the `now` input
    /// (default one second).
    public var floodWindow: UInt64 = 1_000_000_000
    /// Rapid reset: the most streams reset (by the peer, or by us for its errors) per window
    /// before GOAWAY ENHANCE_YOUR_CALM (default 200).
    public var maxResetsPerWindow: Int = 200
    /// The most zero-length DATA frames without END_STREAM per window (default 100).
    public var maxEmptyFramesPerWindow: Int = 100
    /// The most PRIORITY and PRIORITY_UPDATE frames per window (default 100).
    public var maxPriorityFramesPerWindow: Int = 100
    /// The most SETTINGS ACKs owed and not yet flushed (default 100).
    public var maxPendingSettingsAcks: Int = 100
    /// The most PING ACKs owed and not yet flushed (default 100).
    public var maxPendingPingAcks: Int = 100
    /// How long the peer may take to acknowledge our SETTINGS before SETTINGS_TIMEOUT
    /// (RFC 9113 §6.5.3), in nanoseconds of the `now` input (default 10 s).
    public var settingsTimeout: UInt64 = 10_000_000_000
    /// The most streams the peer may open over the connection's life; after that we send
    /// GOAWAY and refuse new streams (default: no bound but stream-id exhaustion).
    public var maxStreamsPerConnection: Int = Int.max

    /// Makes the default configuration.
    public init() {}
}

/// The settings the peer announced, with the RFC's defaults until it says otherwise.
public struct HTTP2Settings: Hashable, Sendable {
    /// SETTINGS_HEADER_TABLE_SIZE.
    public var headerTableSize: Int = 4096
    /// SETTINGS_ENABLE_PUSH.
    public var enablePush: Bool = true
    /// SETTINGS_MAX_CONCURRENT_STREAMS (unbounded until announced).
    public var maxConcurrentStreams: Int = Int.max
    /// SETTINGS_INITIAL_WINDOW_SIZE.
    public var initialWindowSize: Int = 65_535
    /// SETTINGS_MAX_FRAME_SIZE.
    public var maxFrameSize: Int = 16_384
    /// SETTINGS_MAX_HEADER_LIST_SIZE (unbounded until announced).
    public var maxHeaderListSize: Int = Int.max
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441).
    public var enableConnectProtocol: Bool = false
    /// SETTINGS_NO_RFC7540_PRIORITIES (RFC 9218 §2.1).
    public var noRFC7540Priorities: Bool = false

    /// The RFC 9113 defaults.
    public init() {}
}
