/// Writes HTTP/2 frames into a buffer the caller owns (RFC 9113 §4.1, §6).
///
/// Every method appends one frame to `output` and allocates nothing once `output` has
/// capacity. Padding is written as zero octets of the given length (the padding length
/// octet included in the frame's length, RFC 9113 §6.1). Limits are the caller's to respect:
/// the connection machine splits data and header blocks by the peer's SETTINGS_MAX_FRAME_SIZE.
public enum HTTP2FrameEncoder {
    /// Appends a 9-octet frame header.
    @inline(__always)
    public static func appendHeader(
        length: Int, type: HTTP2FrameType, flags: HTTP2FrameFlags, streamID: UInt32, into output: inout [UInt8]
    ) {
        output.append(UInt8(truncatingIfNeeded: length >> 16))
        output.append(UInt8(truncatingIfNeeded: length >> 8))
        output.append(UInt8(truncatingIfNeeded: length))
        output.append(type.rawValue)
        output.append(flags.rawValue)
        appendUInt32(streamID & http2MaxStreamID, into: &output)
    }

    /// Appends a DATA frame; `padding` > 0 sets PADDED and adds that many zero octets.
    public static func appendData(
        streamID: UInt32, _ data: UnsafeRawBufferPointer, endStream: Bool, padding: Int = 0,
        into output: inout [UInt8]
    ) {
        var flags: HTTP2FrameFlags = endStream ? .endStream : []
        if padding > 0 { flags.insert(.padded) }
        let length = data.count &+ (padding > 0 ? padding &+ 1 : 0)
        appendHeader(length: length, type: .data, flags: flags, streamID: streamID, into: &output)
        if padding > 0 { output.append(UInt8(truncatingIfNeeded: padding)) }
        output.append(contentsOf: data)
        appendZeros(padding, into: &output)
    }

    /// Appends a HEADERS frame carrying `fragment`.
    public static func appendHeaders(
        streamID: UInt32, fragment: UnsafeRawBufferPointer, endStream: Bool, endHeaders: Bool,
        priority: HTTP2PriorityFields? = nil, padding: Int = 0, into output: inout [UInt8]
    ) {
        var flags: HTTP2FrameFlags = []
        if endStream { flags.insert(.endStream) }
        if endHeaders { flags.insert(.endHeaders) }
        if padding > 0 { flags.insert(.padded) }
        if priority != nil { flags.insert(.priority) }
        let length = fragment.count &+ (padding > 0 ? padding &+ 1 : 0) &+ (priority != nil ? 5 : 0)
        appendHeader(length: length, type: .headers, flags: flags, streamID: streamID, into: &output)
        if padding > 0 { output.append(UInt8(truncatingIfNeeded: padding)) }
        if let priority { appendPriority(priority, into: &output) }
        output.append(contentsOf: fragment)
        appendZeros(padding, into: &output)
    }

    /// Appends a PRIORITY frame.
    public static func appendPriority(streamID: UInt32, _ priority: HTTP2PriorityFields, into output: inout [UInt8]) {
        appendHeader(length: 5, type: .priority, flags: [], streamID: streamID, into: &output)
        appendPriority(priority, into: &output)
    }

    /// Appends a RST_STREAM frame.
    public static func appendRSTStream(streamID: UInt32, code: HTTP2ErrorCode, into output: inout [UInt8]) {
        appendHeader(length: 4, type: .rstStream, flags: [], streamID: streamID, into: &output)
        appendUInt32(code.rawValue, into: &output)
    }

    /// Appends a SETTINGS frame with `settings`, or an empty ACK when `ack` is set.
    public static func appendSettings(_ settings: [HTTP2SettingsEntry], ack: Bool = false, into output: inout [UInt8]) {
        appendHeader(length: ack ? 0 : settings.count &* 6, type: .settings, flags: ack ? .ack : [], streamID: 0, into: &output)
        if ack { return }
        var index = 0
        while index < settings.count {
            let setting = settings[index]
            output.append(UInt8(truncatingIfNeeded: setting.parameter.rawValue >> 8))
            output.append(UInt8(truncatingIfNeeded: setting.parameter.rawValue))
            appendUInt32(setting.value, into: &output)
            index &+= 1
        }
    }

    /// Appends a PUSH_PROMISE frame.
    public static func appendPushPromise(
        streamID: UInt32, promisedStreamID: UInt32, fragment: UnsafeRawBufferPointer, endHeaders: Bool,
        padding: Int = 0, into output: inout [UInt8]
    ) {
        var flags: HTTP2FrameFlags = endHeaders ? .endHeaders : []
        if padding > 0 { flags.insert(.padded) }
        let length = 4 &+ fragment.count &+ (padding > 0 ? padding &+ 1 : 0)
        appendHeader(length: length, type: .pushPromise, flags: flags, streamID: streamID, into: &output)
        if padding > 0 { output.append(UInt8(truncatingIfNeeded: padding)) }
        appendUInt32(promisedStreamID & http2MaxStreamID, into: &output)
        output.append(contentsOf: fragment)
        appendZeros(padding, into: &output)
    }

    /// Appends a PING frame (an ACK when `ack` is set).
    public static func appendPing(_ opaque: UInt64, ack: Bool, into output: inout [UInt8]) {
        appendHeader(length: 8, type: .ping, flags: ack ? .ack : [], streamID: 0, into: &output)
        appendUInt32(UInt32(truncatingIfNeeded: opaque >> 32), into: &output)
        appendUInt32(UInt32(truncatingIfNeeded: opaque), into: &output)
    }

    /// Appends a GOAWAY frame.
    public static func appendGoaway(
        lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        into output: inout [UInt8]
    ) {
        appendHeader(length: 8 &+ debugData.count, type: .goaway, flags: [], streamID: 0, into: &output)
        appendUInt32(lastStreamID & http2MaxStreamID, into: &output)
        appendUInt32(code.rawValue, into: &output)
        output.append(contentsOf: debugData)
    }

    /// Appends a WINDOW_UPDATE frame (`increment` must be 1...2^31-1).
    public static func appendWindowUpdate(streamID: UInt32, increment: UInt32, into output: inout [UInt8]) {
        appendHeader(length: 4, type: .windowUpdate, flags: [], streamID: streamID, into: &output)
        appendUInt32(increment & http2MaxStreamID, into: &output)
    }

    /// Appends a CONTINUATION frame.
    public static func appendContinuation(
        streamID: UInt32, fragment: UnsafeRawBufferPointer, endHeaders: Bool, into output: inout [UInt8]
    ) {
        appendHeader(length: fragment.count, type: .continuation, flags: endHeaders ? .endHeaders : [], streamID: streamID, into: &output)
        output.append(contentsOf: fragment)
    }

    /// Appends a PRIORITY_UPDATE frame (RFC 9218 §7.1).
    public static func appendPriorityUpdate(
        prioritizedStreamID: UInt32, fieldValue: UnsafeRawBufferPointer, into output: inout [UInt8]
    ) {
        appendHeader(length: 4 &+ fieldValue.count, type: .priorityUpdate, flags: [], streamID: 0, into: &output)
        appendUInt32(prioritizedStreamID & http2MaxStreamID, into: &output)
        output.append(contentsOf: fieldValue)
    }

    /// Re-encodes a decoded frame exactly: its header flags as they came, its padding octets
    /// as they came (used by the conformance runner and tools).
    public static func append(_ frame: HTTP2FrameView, into output: inout [UInt8]) {
        let start = output.count
        let header = frame.header
        appendHeader(length: 0, type: header.type, flags: header.flags, streamID: header.streamID, into: &output)
        func padStart(_ padding: UnsafeRawBufferPointer?) {
            if let padding { output.append(UInt8(truncatingIfNeeded: padding.count)) }
        }
        switch frame.payload {
        case .data(let data, let padding):
            padStart(padding)
            output.append(contentsOf: data)
            if let padding { output.append(contentsOf: padding) }
        case .headers(let priority, let fragment, let padding):
            padStart(padding)
            if let priority { appendPriority(priority, into: &output) }
            output.append(contentsOf: fragment)
            if let padding { output.append(contentsOf: padding) }
        case .priority(let priority):
            appendPriority(priority, into: &output)
        case .rstStream(let code):
            appendUInt32(code.rawValue, into: &output)
        case .settings(let view):
            output.append(contentsOf: view.bytes)
        case .pushPromise(let promised, let fragment, let padding):
            padStart(padding)
            appendUInt32(promised, into: &output)
            output.append(contentsOf: fragment)
            if let padding { output.append(contentsOf: padding) }
        case .ping(let opaque):
            appendUInt32(UInt32(truncatingIfNeeded: opaque >> 32), into: &output)
            appendUInt32(UInt32(truncatingIfNeeded: opaque), into: &output)
        case .goaway(let last, let code, let debug):
            appendUInt32(last, into: &output)
            appendUInt32(code.rawValue, into: &output)
            output.append(contentsOf: debug)
        case .windowUpdate(let increment):
            appendUInt32(increment, into: &output)
        case .continuation(let fragment):
            output.append(contentsOf: fragment)
        case .priorityUpdate(let stream, let value):
            appendUInt32(stream, into: &output)
            output.append(contentsOf: value)
        case .unknown(let payload):
            output.append(contentsOf: payload)
        }
        let length = output.count &- start &- HTTP2FrameHeader.size
        output[start] = UInt8(truncatingIfNeeded: length >> 16)
        output[start &+ 1] = UInt8(truncatingIfNeeded: length >> 8)
        output[start &+ 2] = UInt8(truncatingIfNeeded: length)
    }

    @inline(__always)
    static func appendUInt32(_ value: UInt32, into output: inout [UInt8]) {
        output.append(UInt8(truncatingIfNeeded: value >> 24))
        output.append(UInt8(truncatingIfNeeded: value >> 16))
        output.append(UInt8(truncatingIfNeeded: value >> 8))
        output.append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    static func appendPriority(_ priority: HTTP2PriorityFields, into output: inout [UInt8]) {
        appendUInt32(priority.dependency & http2MaxStreamID | (priority.exclusive ? 0x8000_0000 : 0), into: &output)
        output.append(priority.weight)
    }

    @inline(__always)
    static func appendZeros(_ count: Int, into output: inout [UInt8]) {
        var remaining = count
        while remaining > 0 {
            output.append(0)
            remaining &-= 1
        }
    }
}
