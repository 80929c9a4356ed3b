/// A decoded frame whose variable parts are views into the bytes it was decoded from.
///
/// Every `UnsafeRawBufferPointer` in a payload points into the caller's buffer (or the
/// connection's reassembly buffer) and is valid only while that buffer is: during the
/// decoding call or the event handler call that hands the frame out. Copy what you keep.
public struct HTTP2FrameView {
    /// The frame header as it came (unknown flag bits included).
    public var header: HTTP2FrameHeader
    /// The type-specific payload.
    public var payload: HTTP2FramePayload

    /// Makes a frame.
    public init(header: HTTP2FrameHeader, payload: HTTP2FramePayload) {
        self.header = header
        self.payload = payload
    }
}

/// The type-specific part of a frame (RFC 9113 §6), with views into the frame's bytes.
public enum HTTP2FramePayload {
    /// DATA: the data and, when PADDED, the padding octets.
    case data(UnsafeRawBufferPointer, padding: UnsafeRawBufferPointer?)
    /// HEADERS: priority fields when the PRIORITY flag is set, the field block fragment, the
    /// padding when PADDED.
    case headers(priority: HTTP2PriorityFields?, fragment: UnsafeRawBufferPointer, padding: UnsafeRawBufferPointer?)
    /// PRIORITY.
    case priority(HTTP2PriorityFields)
    /// RST_STREAM.
    case rstStream(HTTP2ErrorCode)
    /// SETTINGS: the entries as a view (empty for an ACK).
    case settings(HTTP2SettingsView)
    /// PUSH_PROMISE: the promised stream, the fragment, the padding when PADDED.
    case pushPromise(promisedStreamID: UInt32, fragment: UnsafeRawBufferPointer, padding: UnsafeRawBufferPointer?)
    /// PING: the 8 opaque octets as a big-endian integer.
    case ping(UInt64)
    /// GOAWAY.
    case goaway(lastStreamID: UInt32, errorCode: HTTP2ErrorCode, debugData: UnsafeRawBufferPointer)
    /// WINDOW_UPDATE: the increment (never 0 once decoded; the decoder rejects 0).
    case windowUpdate(increment: UInt32)
    /// CONTINUATION.
    case continuation(fragment: UnsafeRawBufferPointer)
    /// PRIORITY_UPDATE (RFC 9218 §7.1): the prioritized stream and the field value.
    case priorityUpdate(prioritizedStreamID: UInt32, fieldValue: UnsafeRawBufferPointer)
    /// A frame type this decoder does not know; ignore it (RFC 9113 §5.5).
    case unknown(UnsafeRawBufferPointer)
}

/// The entries of a SETTINGS payload, read in place.
public struct HTTP2SettingsView: Sequence {
    /// The payload bytes (a multiple of 6 octets).
    public let bytes: UnsafeRawBufferPointer

    /// Makes a view of a SETTINGS payload whose length is a multiple of 6.
    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The number of entries.
    public var count: Int { bytes.count / 6 }

    /// The entry at `index`.
    public subscript(index: Int) -> HTTP2SettingsEntry {
        let base = index &* 6
        let identifier = UInt16(bytes[base]) << 8 | UInt16(bytes[base &+ 1])
        return HTTP2SettingsEntry(HTTP2SettingsIdentifier(rawValue: identifier), readUInt32(bytes, at: base &+ 2))
    }

    /// Iterates the entries in order.
    public struct Iterator: IteratorProtocol {
        let view: HTTP2SettingsView
        var index = 0
        /// The next entry.
        public mutating func next() -> HTTP2SettingsEntry? {
            guard index < view.count else { return nil }
            defer { index &+= 1 }
            return view[index]
        }
    }

    /// Iterates the entries in order.
    public func makeIterator() -> Iterator { Iterator(view: self) }
}

@inline(__always)
func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset &+ 1]) << 16
        | UInt32(bytes[offset &+ 2]) << 8 | UInt32(bytes[offset &+ 3])
}

/// A frame that breaks a framing rule of RFC 9113 §4–§6, with the error code the RFC gives.
public struct HTTP2FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The rule that was broken.
    public enum Rule: String, Hashable, Sendable {
        /// The length exceeds SETTINGS_MAX_FRAME_SIZE (§4.2).
        case frameTooLarge
        /// The padding length is not less than the payload that follows it (§6.1, §6.2, §6.6).
        case paddingTooLong
        /// A frame that must be on a stream came on stream 0.
        case streamIDZero
        /// A frame that must be on stream 0 came on a stream.
        case streamIDNotZero
        /// The payload length is wrong for the type (PRIORITY 5, RST_STREAM 4, PING 8, ...).
        case wrongLength
        /// A SETTINGS ACK carries a payload (§6.5).
        case settingsAckWithPayload
        /// A SETTINGS payload is not a multiple of 6 octets (§6.5).
        case settingsLengthNotMultipleOf6
        /// A WINDOW_UPDATE increment of 0 (§6.9).
        case zeroWindowIncrement
        /// A PUSH_PROMISE promises stream 0 or an odd stream (§6.6, §5.1.1).
        case invalidPromisedStreamID
    }

    /// The rule that was broken.
    public let rule: Rule
    /// The error code to send (PROTOCOL_ERROR, FRAME_SIZE_ERROR).
    public let code: HTTP2ErrorCode
    /// The stream the frame came on.
    public let streamID: UInt32
    /// Whether the RFC makes this a stream error (RST_STREAM) rather than a connection error.
    public let isStreamError: Bool

    /// Makes an error.
    public init(_ rule: Rule, code: HTTP2ErrorCode, streamID: UInt32, isStreamError: Bool = false) {
        self.rule = rule
        self.code = code
        self.streamID = streamID
        self.isStreamError = isStreamError
    }

    /// A line such as `paddingTooLong (PROTOCOL_ERROR) on stream 1`.
    public var description: String {
        "\(rule.rawValue) (\(code)) on stream \(streamID)\(isStreamError ? ", stream error" : "")"
    }
}
