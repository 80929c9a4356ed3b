/// One stream's state (RFC 9113 §5.1). Idle streams have no record; closed streams are
/// removed, and recognised afterwards by their identifier being below the highest used.
struct StreamState: Sendable {
    /// The §5.1 states a stream with a record can be in.
    enum Phase: Sendable {
        case reservedLocal
        case reservedRemote
        case open
        case halfClosedLocal
        case halfClosedRemote
    }

    var phase: Phase
    /// What we may still send (may go negative after a SETTINGS_INITIAL_WINDOW_SIZE cut).
    var sendWindow: Int
    /// What the peer may still send.
    var receiveWindow: Int
    /// Octets received and handed out but not yet credited back with WINDOW_UPDATE.
    var unacknowledged = 0
    /// A final (non-1xx) head was received.
    var receivedFinalHead = false
    /// A final head was sent.
    var sentFinalHead = false
    /// content-length of the message being received, if it had one.
    var expectedLength: Int?
    /// DATA octets received (padding excluded).
    var receivedLength = 0
    /// We sent a HEAD request on this stream (its response has no body).
    var requestWasHead = false

    init(phase: Phase, sendWindow: Int, receiveWindow: Int) {
        self.phase = phase
        self.sendWindow = sendWindow
        self.receiveWindow = receiveWindow
    }

    /// Whether the peer may still send DATA on this stream.
    var peerMaySend: Bool { phase == .open || phase == .halfClosedLocal }
    /// Whether we may still send DATA on this stream.
    var weMaySend: Bool { phase == .open || phase == .halfClosedRemote }
}

/// Counts events in a fixed window of the caller's clock; the flood defenses use one each.
struct FloodCounter: Sendable {
    private var windowStart: UInt64 = 0
    private var count = 0

    /// Records one event at `now`; `false` when the window now holds more than `limit`.
    mutating func record(now: UInt64, window: UInt64, limit: Int) -> Bool {
        if now &- windowStart >= window || now < windowStart {
            windowStart = now
            count = 0
        }
        count &+= 1
        return count <= limit
    }
}
