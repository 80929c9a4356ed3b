/// A connection error (RFC 9113 §5.4.1): the machine has queued GOAWAY with ``code`` and
/// accepts no more input.
public struct HTTP2ConnectionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The rule the peer broke.
    public enum Rule: String, Hashable, Sendable {
        /// The client preface did not match (§3.4).
        case invalidPreface
        /// The first frame was not SETTINGS (§3.4).
        case firstFrameNotSettings
        /// A frame broke a framing rule (see ``HTTP2ConnectionError/frameRule``).
        case malformedFrame
        /// A frame other than CONTINUATION on the same stream came inside a header block (§6.10).
        case expectedContinuation
        /// A CONTINUATION came outside a header block (§6.10).
        case unexpectedContinuation
        /// A header block could not be decoded (§4.3).
        case compression
        /// A frame on an idle stream that idle streams do not allow (§5.1).
        case frameOnIdleStream
        /// A stream identifier of the wrong parity or not above the last one (§5.1.1).
        case invalidStreamID
        /// DATA or HEADERS on a closed stream (§5.1).
        case frameOnClosedStream
        /// A frame a reserved stream does not allow (§5.1).
        case frameOnReservedStream
        /// More DATA than the connection window allows (§6.9).
        case connectionWindowExceeded
        /// A WINDOW_UPDATE made a window exceed 2^31-1 (§6.9.1).
        case windowOverflow
        /// A SETTINGS value out of range (§6.5.2).
        case invalidSetting
        /// PUSH_PROMISE that we did not allow or that the peer may not send (§6.6, §8.4).
        case pushNotAllowed
        /// PRIORITY_UPDATE from a server or for stream 0 (RFC 9218 §7).
        case invalidPriorityUpdate
        /// Too many streams reset per window (rapid reset, CVE-2023-44487).
        case rapidReset
        /// A header block above the size bound (CONTINUATION flood).
        case headerBlockTooLarge
        /// Too many CONTINUATION frames in one header block (CONTINUATION flood).
        case tooManyContinuations
        /// Too many SETTINGS owed an ACK (SETTINGS flood).
        case settingsFlood
        /// Too many PINGs owed an ACK (PING flood).
        case pingFlood
        /// Too many zero-length DATA frames (empty frame flood).
        case emptyFrameFlood
        /// Too many PRIORITY frames (PRIORITY flood).
        case priorityFlood
        /// Our SETTINGS went unacknowledged for longer than the configured timeout (§6.5.3).
        case settingsTimeout
        /// Input after the connection ended.
        case connectionClosed
    }

    /// The error code sent in GOAWAY.
    public let code: HTTP2ErrorCode
    /// The rule the peer broke.
    public let rule: Rule
    /// The stream of the offending frame (0 for the connection).
    public let streamID: UInt32
    /// For ``Rule/malformedFrame``, the framing rule.
    public let frameRule: HTTP2FrameError.Rule?
    /// Where the offending frame (or the first wrong preface octet) began, in octets of the
    /// stream the machine has received since it was made; for ``Rule/settingsTimeout``, how
    /// much had been received when the timer fired. `-1` on an error made by hand until a
    /// machine throws it.
    public internal(set) var offset: Int

    /// Makes an error; a machine that throws it sets ``offset``.
    public init(_ rule: Rule, code: HTTP2ErrorCode, streamID: UInt32 = 0, frameRule: HTTP2FrameError.Rule? = nil) {
        self.rule = rule
        self.code = code
        self.streamID = streamID
        self.frameRule = frameRule
        self.offset = -1
    }

    /// The section of the RFC the broken rule comes from, such as `"RFC 9113 §6.9.1"`.
    public var section: String {
        switch rule {
        case .invalidPreface, .firstFrameNotSettings: "RFC 9113 §3.4"
        case .malformedFrame:
            switch frameRule {
            case .frameTooLarge?: "RFC 9113 §4.2"
            case .paddingTooLong?: "RFC 9113 §6.1"
            case .settingsAckWithPayload?, .settingsLengthNotMultipleOf6?: "RFC 9113 §6.5"
            case .zeroWindowIncrement?: "RFC 9113 §6.9"
            case .invalidPromisedStreamID?: "RFC 9113 §6.6"
            default: "RFC 9113 §6"
            }
        case .expectedContinuation, .unexpectedContinuation: "RFC 9113 §6.10"
        case .compression: "RFC 9113 §4.3"
        case .frameOnIdleStream, .frameOnClosedStream, .frameOnReservedStream: "RFC 9113 §5.1"
        case .invalidStreamID: "RFC 9113 §5.1.1"
        case .connectionWindowExceeded: "RFC 9113 §6.9"
        case .windowOverflow: "RFC 9113 §6.9.1"
        case .invalidSetting: "RFC 9113 §6.5.2"
        case .pushNotAllowed: "RFC 9113 §8.4"
        case .invalidPriorityUpdate: "RFC 9218 §7.1"
        case .rapidReset, .headerBlockTooLarge, .tooManyContinuations, .settingsFlood, .pingFlood,
             .emptyFrameFlood, .priorityFlood:
            "RFC 9113 §10.5"
        case .settingsTimeout: "RFC 9113 §6.5.3"
        case .connectionClosed: "RFC 9113 §5.4.1"
        }
    }

    /// A line such as `rapidReset (ENHANCE_YOUR_CALM) on stream 7`.
    public var description: String {
        "\(frameRule?.rawValue ?? rule.rawValue) (\(code)) on stream \(streamID)"
    }
}

/// Why the machine refused an action the caller asked for; nothing was written.
public enum HTTP2UsageError: Error, Hashable, Sendable {
    /// The connection has ended (a connection error or GOAWAY).
    case connectionClosed
    /// No such open stream.
    case unknownStream(UInt32)
    /// The stream's state does not allow this frame (RFC 9113 §5.1).
    case streamNotWritable(UInt32)
    /// Only a client starts requests, only a server pushes.
    case wrongRole
    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached.
    case tooManyStreams
    /// All stream identifiers have been used (RFC 9113 §5.1.1): open a new connection.
    case streamIDsExhausted
    /// The peer sent GOAWAY: no new streams on this connection.
    case goawayReceived
    /// The peer disabled push (SETTINGS_ENABLE_PUSH = 0).
    case pushDisabled
    /// A SETTINGS value out of range.
    case invalidSetting(HTTP2SettingsIdentifier)
    /// Trailers or data after END_STREAM, or trailers before the head.
    case endStreamAlreadySent(UInt32)
}
