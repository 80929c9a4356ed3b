/// An HTTP/2 frame type (RFC 9113 §6). Unknown types are carried, not rejected (§4.1, §5.5).
public struct HTTP2FrameType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The type octet.
    public var rawValue: UInt8
    /// Makes a type from its octet.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// DATA (§6.1).
    public static let data = HTTP2FrameType(rawValue: 0x0)
    /// HEADERS (§6.2).
    public static let headers = HTTP2FrameType(rawValue: 0x1)
    /// PRIORITY (§6.3, deprecated but parsed).
    public static let priority = HTTP2FrameType(rawValue: 0x2)
    /// RST_STREAM (§6.4).
    public static let rstStream = HTTP2FrameType(rawValue: 0x3)
    /// SETTINGS (§6.5).
    public static let settings = HTTP2FrameType(rawValue: 0x4)
    /// PUSH_PROMISE (§6.6).
    public static let pushPromise = HTTP2FrameType(rawValue: 0x5)
    /// PING (§6.7).
    public static let ping = HTTP2FrameType(rawValue: 0x6)
    /// GOAWAY (§6.8).
    public static let goaway = HTTP2FrameType(rawValue: 0x7)
    /// WINDOW_UPDATE (§6.9).
    public static let windowUpdate = HTTP2FrameType(rawValue: 0x8)
    /// CONTINUATION (§6.10).
    public static let continuation = HTTP2FrameType(rawValue: 0x9)
    /// PRIORITY_UPDATE (RFC 9218 §7.1).
    public static let priorityUpdate = HTTP2FrameType(rawValue: 0x10)

    /// The RFC's name, such as `HEADERS`, or `UNKNOWN(0xNN)`.
    public var description: String {
        switch rawValue {
        case 0x0: "DATA"
        case 0x1: "HEADERS"
        case 0x2: "PRIORITY"
        case 0x3: "RST_STREAM"
        case 0x4: "SETTINGS"
        case 0x5: "PUSH_PROMISE"
        case 0x6: "PING"
        case 0x7: "GOAWAY"
        case 0x8: "WINDOW_UPDATE"
        case 0x9: "CONTINUATION"
        case 0x10: "PRIORITY_UPDATE"
        default: "UNKNOWN(0x\(String(rawValue, radix: 16)))"
        }
    }
}

/// The flags octet of a frame header; each type gives meaning to some bits and ignores the
/// rest (RFC 9113 §4.1: unknown flags are ignored and kept as they came).
public struct HTTP2FrameFlags: OptionSet, Hashable, Sendable {
    /// The flags octet.
    public var rawValue: UInt8
    /// Makes flags from their octet.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// END_STREAM on DATA and HEADERS.
    public static let endStream = HTTP2FrameFlags(rawValue: 0x1)
    /// ACK on SETTINGS and PING (the same bit as END_STREAM).
    public static let ack = HTTP2FrameFlags(rawValue: 0x1)
    /// END_HEADERS on HEADERS, PUSH_PROMISE and CONTINUATION.
    public static let endHeaders = HTTP2FrameFlags(rawValue: 0x4)
    /// PADDED on DATA, HEADERS and PUSH_PROMISE.
    public static let padded = HTTP2FrameFlags(rawValue: 0x8)
    /// PRIORITY on HEADERS.
    public static let priority = HTTP2FrameFlags(rawValue: 0x20)
}

/// An HTTP/2 error code (RFC 9113 §7); unknown codes are kept as they came.
public struct HTTP2ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 32-bit code.
    public var rawValue: UInt32
    /// Makes a code from its value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// NO_ERROR (0x0).
    public static let noError = HTTP2ErrorCode(rawValue: 0x0)
    /// PROTOCOL_ERROR (0x1).
    public static let protocolError = HTTP2ErrorCode(rawValue: 0x1)
    /// INTERNAL_ERROR (0x2).
    public static let internalError = HTTP2ErrorCode(rawValue: 0x2)
    /// FLOW_CONTROL_ERROR (0x3).
    public static let flowControlError = HTTP2ErrorCode(rawValue: 0x3)
    /// SETTINGS_TIMEOUT (0x4).
    public static let settingsTimeout = HTTP2ErrorCode(rawValue: 0x4)
    /// STREAM_CLOSED (0x5).
    public static let streamClosed = HTTP2ErrorCode(rawValue: 0x5)
    /// FRAME_SIZE_ERROR (0x6).
    public static let frameSizeError = HTTP2ErrorCode(rawValue: 0x6)
    /// REFUSED_STREAM (0x7).
    public static let refusedStream = HTTP2ErrorCode(rawValue: 0x7)
    /// CANCEL (0x8).
    public static let cancel = HTTP2ErrorCode(rawValue: 0x8)
    /// COMPRESSION_ERROR (0x9).
    public static let compressionError = HTTP2ErrorCode(rawValue: 0x9)
    /// CONNECT_ERROR (0xa).
    public static let connectError = HTTP2ErrorCode(rawValue: 0xa)
    /// ENHANCE_YOUR_CALM (0xb).
    public static let enhanceYourCalm = HTTP2ErrorCode(rawValue: 0xb)
    /// INADEQUATE_SECURITY (0xc).
    public static let inadequateSecurity = HTTP2ErrorCode(rawValue: 0xc)
    /// HTTP_1_1_REQUIRED (0xd).
    public static let http11Required = HTTP2ErrorCode(rawValue: 0xd)

    /// The RFC's name, such as `PROTOCOL_ERROR`, or `UNKNOWN(0xNN)`.
    public var description: String {
        switch rawValue {
        case 0x0: "NO_ERROR"
        case 0x1: "PROTOCOL_ERROR"
        case 0x2: "INTERNAL_ERROR"
        case 0x3: "FLOW_CONTROL_ERROR"
        case 0x4: "SETTINGS_TIMEOUT"
        case 0x5: "STREAM_CLOSED"
        case 0x6: "FRAME_SIZE_ERROR"
        case 0x7: "REFUSED_STREAM"
        case 0x8: "CANCEL"
        case 0x9: "COMPRESSION_ERROR"
        case 0xa: "CONNECT_ERROR"
        case 0xb: "ENHANCE_YOUR_CALM"
        case 0xc: "INADEQUATE_SECURITY"
        case 0xd: "HTTP_1_1_REQUIRED"
        default: "UNKNOWN(0x\(String(rawValue, radix: 16)))"
        }
    }
}

/// A SETTINGS parameter identifier (RFC 9113 §6.5.2); unknown ones are ignored by receivers.
public struct HTTP2SettingsIdentifier: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit identifier.
    public var rawValue: UInt16
    /// Makes an identifier from its value.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// SETTINGS_HEADER_TABLE_SIZE (0x1).
    public static let headerTableSize = HTTP2SettingsIdentifier(rawValue: 0x1)
    /// SETTINGS_ENABLE_PUSH (0x2).
    public static let enablePush = HTTP2SettingsIdentifier(rawValue: 0x2)
    /// SETTINGS_MAX_CONCURRENT_STREAMS (0x3).
    public static let maxConcurrentStreams = HTTP2SettingsIdentifier(rawValue: 0x3)
    /// SETTINGS_INITIAL_WINDOW_SIZE (0x4).
    public static let initialWindowSize = HTTP2SettingsIdentifier(rawValue: 0x4)
    /// SETTINGS_MAX_FRAME_SIZE (0x5).
    public static let maxFrameSize = HTTP2SettingsIdentifier(rawValue: 0x5)
    /// SETTINGS_MAX_HEADER_LIST_SIZE (0x6).
    public static let maxHeaderListSize = HTTP2SettingsIdentifier(rawValue: 0x6)
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441, 0x8).
    public static let enableConnectProtocol = HTTP2SettingsIdentifier(rawValue: 0x8)
    /// SETTINGS_NO_RFC7540_PRIORITIES (RFC 9218, 0x9).
    public static let noRFC7540Priorities = HTTP2SettingsIdentifier(rawValue: 0x9)

    /// The RFC's name, such as `SETTINGS_MAX_FRAME_SIZE`, or `UNKNOWN(0xNN)`.
    public var description: String {
        switch rawValue {
        case 0x1: "SETTINGS_HEADER_TABLE_SIZE"
        case 0x2: "SETTINGS_ENABLE_PUSH"
        case 0x3: "SETTINGS_MAX_CONCURRENT_STREAMS"
        case 0x4: "SETTINGS_INITIAL_WINDOW_SIZE"
        case 0x5: "SETTINGS_MAX_FRAME_SIZE"
        case 0x6: "SETTINGS_MAX_HEADER_LIST_SIZE"
        case 0x8: "SETTINGS_ENABLE_CONNECT_PROTOCOL"
        case 0x9: "SETTINGS_NO_RFC7540_PRIORITIES"
        default: "UNKNOWN(0x\(String(rawValue, radix: 16)))"
        }
    }
}

/// One SETTINGS entry: an identifier and its 32-bit value.
public struct HTTP2SettingsEntry: Hashable, Sendable {
    /// The parameter.
    public var parameter: HTTP2SettingsIdentifier
    /// Its value.
    public var value: UInt32
    /// Makes an entry.
    public init(_ parameter: HTTP2SettingsIdentifier, _ value: UInt32) {
        self.parameter = parameter
        self.value = value
    }
}

/// The RFC 7540 priority fields of a HEADERS or PRIORITY frame (deprecated by RFC 9113 §5.3.2,
/// still parsed and checked).
public struct HTTP2PriorityFields: Hashable, Sendable {
    /// The E bit.
    public var exclusive: Bool
    /// The stream this one depends on.
    public var dependency: UInt32
    /// The weight octet as sent (the weight is this plus one).
    public var weight: UInt8
    /// Makes priority fields.
    public init(exclusive: Bool, dependency: UInt32, weight: UInt8) {
        self.exclusive = exclusive
        self.dependency = dependency
        self.weight = weight
    }
}

/// The fixed 9-octet header of every frame (RFC 9113 §4.1).
public struct HTTP2FrameHeader: Hashable, Sendable {
    /// The payload's length (24 bits).
    public var length: Int
    /// The frame type.
    public var type: HTTP2FrameType
    /// The flags octet, unknown bits included.
    public var flags: HTTP2FrameFlags
    /// The stream identifier (the reserved bit cleared).
    public var streamID: UInt32

    /// The header's size on the wire.
    public static let size = 9

    /// Makes a header.
    public init(length: Int, type: HTTP2FrameType, flags: HTTP2FrameFlags, streamID: UInt32) {
        self.length = length
        self.type = type
        self.flags = flags
        self.streamID = streamID
    }
}

// The protocol's constants, internal to the module; the public face is the static members
// of `HTTP2Connection` below (no global names in an application's namespace).
let http2MaxStreamID: UInt32 = 0x7fff_ffff
let http2MaxWindowSize: Int = 0x7fff_ffff
let http2DefaultMaxFrameSize: Int = 16_384
let http2MaxAllowedFrameSize: Int = 16_777_215
let http2ClientPreface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

extension HTTP2Connection {
    /// The largest stream identifier (2^31-1, RFC 9113 §5.1.1).
    public static var maxStreamID: UInt32 { http2MaxStreamID }
    /// The largest flow-control window (2^31-1, RFC 9113 §6.9.1).
    public static var maxWindowSize: Int { http2MaxWindowSize }
    /// The default and smallest SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2).
    public static var defaultMaxFrameSize: Int { http2DefaultMaxFrameSize }
    /// The largest SETTINGS_MAX_FRAME_SIZE (2^24-1, RFC 9113 §6.5.2).
    public static var maxAllowedFrameSize: Int { http2MaxAllowedFrameSize }
    /// The client connection preface (RFC 9113 §3.4), which a client machine sends first.
    public static var clientPreface: [UInt8] { http2ClientPreface }
}
