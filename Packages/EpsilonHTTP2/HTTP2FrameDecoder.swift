/// Decodes HTTP/2 frames in place, one at a time, from bytes the caller owns.
///
/// The decoder keeps no state but its limit: the connection machine buffers partial frames.
/// Payload views point into the bytes passed in (zero-copy). Unknown frame types decode to
/// ``HTTP2FramePayload/unknown(_:)`` and unknown flags are kept in the header and otherwise
/// ignored (RFC 9113 §4.1, §5.5).
///
/// ```swift
/// let decoder = HTTP2FrameDecoder()
/// if let (frame, used) = try decoder.decode(bytes) { ... }
/// ```
public struct HTTP2FrameDecoder: Sendable {
    /// The largest payload accepted: our SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2).
    public var maxFrameSize: Int

    /// Makes a decoder with the given limit (16 384, the RFC default, unless told otherwise).
    public init(maxFrameSize: Int = 16_384) {
        self.maxFrameSize = maxFrameSize
    }

    /// Reads the 9-octet frame header at the start of `bytes`, or `nil` if fewer than 9.
    public static func header(_ bytes: UnsafeRawBufferPointer) -> HTTP2FrameHeader? {
        guard bytes.count >= HTTP2FrameHeader.size else { return nil }
        let length = Int(bytes[0]) << 16 | Int(bytes[1]) << 8 | Int(bytes[2])
        let streamID = readUInt32(bytes, at: 5) & http2MaxStreamID
        return HTTP2FrameHeader(
            length: length, type: HTTP2FrameType(rawValue: bytes[3]),
            flags: HTTP2FrameFlags(rawValue: bytes[4]), streamID: streamID)
    }

    /// Checks a header on its own: the size limit (known before the payload arrives).
    public func check(_ header: HTTP2FrameHeader) throws(HTTP2FrameError) {
        if header.length > maxFrameSize {
            throw HTTP2FrameError(.frameTooLarge, code: .frameSizeError, streamID: header.streamID)
        }
    }

    /// Decodes the frame at the start of `bytes`.
    ///
    /// Returns `nil` when the frame is not complete yet (its header, if present, has passed
    /// the size check), else the frame and the number of octets it took. Throws a
    /// ``HTTP2FrameError`` for a frame that breaks a framing rule.
    public func decode(_ bytes: UnsafeRawBufferPointer) throws(HTTP2FrameError) -> (frame: HTTP2FrameView, consumed: Int)? {
        guard let header = Self.header(bytes) else { return nil }
        try check(header)
        let total = HTTP2FrameHeader.size &+ header.length
        guard bytes.count >= total else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[HTTP2FrameHeader.size..<total])
        return (HTTP2FrameView(header: header, payload: try Self.decodePayload(header, payload)), total)
    }

    /// Decodes a payload whose header has been read and size-checked.
    public static func decodePayload(
        _ header: HTTP2FrameHeader, _ payload: UnsafeRawBufferPointer
    ) throws(HTTP2FrameError) -> HTTP2FramePayload {
        let stream = header.streamID
        let flags = header.flags
        switch header.type {
        case .data:
            if stream == 0 { throw HTTP2FrameError(.streamIDZero, code: .protocolError, streamID: 0) }
            let (body, padding) = try unpad(payload, flags: flags, streamID: stream)
            return .data(body, padding: padding)
        case .headers:
            if stream == 0 { throw HTTP2FrameError(.streamIDZero, code: .protocolError, streamID: 0) }
            var (body, padding) = try unpad(payload, flags: flags, streamID: stream)
            var priority: HTTP2PriorityFields?
            if flags.contains(.priority) {
                guard body.count >= 5 else {
                    throw HTTP2FrameError(.wrongLength, code: .frameSizeError, streamID: stream)
                }
                priority = readPriority(body)
                body = UnsafeRawBufferPointer(rebasing: body[5...])
            }
            return .headers(priority: priority, fragment: body, padding: padding)
        case .priority:
            if stream == 0 { throw HTTP2FrameError(.streamIDZero, code: .protocolError, streamID: 0) }
            // RFC 9113 §6.3: a PRIORITY of the wrong length is a stream error.
            guard payload.count == 5 else {
                throw HTTP2FrameError(.wrongLength, code: .frameSizeError, streamID: stream, isStreamError: true)
            }
            return .priority(readPriority(payload))
        case .rstStream:
            if stream == 0 { throw HTTP2FrameError(.streamIDZero, code: .protocolError, streamID: 0) }
            guard payload.count == 4 else { throw HTTP2FrameError(.wrongLength, code: .frameSizeError, streamID: stream) }
            return .rstStream(HTTP2ErrorCode(rawValue: readUInt32(payload, at: 0)))
        case .settings:
            if stream != 0 { throw HTTP2FrameError(.streamIDNotZero, code: .protocolError, streamID: stream) }
            if flags.contains(.ack) && payload.count != 0 {
                throw HTTP2FrameError(.settingsAckWithPayload, code: .frameSizeError, streamID: 0)
            }
            guard payload.count % 6 == 0 else {
                throw HTTP2FrameError(.settingsLengthNotMultipleOf6, code: .frameSizeError, streamID: 0)
            }
            return .settings(HTTP2SettingsView(payload))
        case .pushPromise:
            if stream == 0 { throw HTTP2FrameError(.streamIDZero, code: .protocolError, streamID: 0) }
            let (body, padding) = try unpad(payload, flags: flags, streamID: stream)
            guard body.count >= 4 else { throw HTTP2FrameError(.wrongLength, code: .frameSizeError, streamID: stream) }
            let promised = readUInt32(body, at: 0) & http2MaxStreamID
            // §5.1.1: only servers promise, on even identifiers; 0 is never a stream.
            if promised == 0 || promised & 1 == 1 {
                throw HTTP2FrameError(.invalidPromisedStreamID, code: .protocolError, streamID: stream)
            }
            return .pushPromise(
                promisedStreamID: promised, fragment: UnsafeRawBufferPointer(rebasing: body[4...]), padding: padding)
        case .ping:
            if stream != 0 { throw HTTP2FrameError(.streamIDNotZero, code: .protocolError, streamID: stream) }
            guard payload.count == 8 else { throw HTTP2FrameError(.wrongLength, code: .frameSizeError, streamID: 0) }
            return .ping(UInt64(readUInt32(payload, at: 0)) << 32 | UInt64(readUInt32(payload, at: 4)))
        case .goaway:
            if stream != 0 { throw HTTP2FrameError(.streamIDNotZero, code: .protocolError, streamID: stream) }
            guard payload.count >= 8 else { throw HTTP2FrameError(.wrongLength, code: .frameSizeError, streamID: 0) }
            return .goaway(
                lastStreamID: readUInt32(payload, at: 0) & http2MaxStreamID,
                errorCode: HTTP2ErrorCode(rawValue: readUInt32(payload, at: 4)),
                debugData: UnsafeRawBufferPointer(rebasing: payload[8...]))
        case .windowUpdate:
            guard payload.count == 4 else { throw HTTP2FrameError(.wrongLength, code: .frameSizeError, streamID: stream) }
            let increment = readUInt32(payload, at: 0) & http2MaxStreamID
            // §6.9: a stream error on a stream, a connection error on stream 0.
            if increment == 0 {
                throw HTTP2FrameError(.zeroWindowIncrement, code: .protocolError, streamID: stream, isStreamError: stream != 0)
            }
            return .windowUpdate(increment: increment)
        case .continuation:
            if stream == 0 { throw HTTP2FrameError(.streamIDZero, code: .protocolError, streamID: 0) }
            return .continuation(fragment: payload)
        case .priorityUpdate:
            // RFC 9218 §7.1: on stream 0, at least the 4-octet prioritized stream id.
            if stream != 0 { throw HTTP2FrameError(.streamIDNotZero, code: .protocolError, streamID: stream) }
            guard payload.count >= 4 else { throw HTTP2FrameError(.wrongLength, code: .frameSizeError, streamID: 0) }
            return .priorityUpdate(
                prioritizedStreamID: readUInt32(payload, at: 0) & http2MaxStreamID,
                fieldValue: UnsafeRawBufferPointer(rebasing: payload[4...]))
        default:
            return .unknown(payload)
        }
    }

    private static func unpad(
        _ payload: UnsafeRawBufferPointer, flags: HTTP2FrameFlags, streamID: UInt32
    ) throws(HTTP2FrameError) -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) {
        guard flags.contains(.padded) else { return (payload, nil) }
        guard payload.count >= 1 else { throw HTTP2FrameError(.wrongLength, code: .frameSizeError, streamID: streamID) }
        let padLength = Int(payload[0])
        // §6.1: padding that is as long as or longer than the rest is a PROTOCOL_ERROR.
        guard padLength < payload.count else {
            throw HTTP2FrameError(.paddingTooLong, code: .protocolError, streamID: streamID)
        }
        let end = payload.count &- padLength
        return (UnsafeRawBufferPointer(rebasing: payload[1..<end]), UnsafeRawBufferPointer(rebasing: payload[end...]))
    }

    private static func readPriority(_ bytes: UnsafeRawBufferPointer) -> HTTP2PriorityFields {
        let word = readUInt32(bytes, at: 0)
        return HTTP2PriorityFields(exclusive: word & 0x8000_0000 != 0, dependency: word & http2MaxStreamID, weight: bytes[4])
    }
}
