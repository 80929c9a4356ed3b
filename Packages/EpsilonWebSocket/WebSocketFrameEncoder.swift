/// Writes WebSocket frames (RFC 6455 §5.2) into a caller-owned byte array.
///
/// The functions append to `output`; keep one array per connection and clear it with
/// `removeAll(keepingCapacity: true)` after each write to the socket, so that steady-state
/// encoding allocates nothing. Masked payloads are masked while they are copied.
public enum WebSocketFrameEncoder {
    /// Appends the header of a frame.
    @inlinable
    public static func writeHeader(_ header: WebSocketFrameHeader, into output: inout [UInt8]) {
        var b0 = header.opcode.rawValue | header.reserved.rawValue
        if header.fin { b0 |= 0x80 }
        output.append(b0)
        let maskBit: UInt8 = header.maskingKey == nil ? 0 : 0x80
        let length = header.payloadLength
        if length <= 125 {
            output.append(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            output.append(maskBit | 126)
            output.append(UInt8(truncatingIfNeeded: length >> 8))
            output.append(UInt8(truncatingIfNeeded: length))
        } else {
            output.append(maskBit | 127)
            var shift: UInt64 = 56
            while true {
                output.append(UInt8(truncatingIfNeeded: length >> shift))
                if shift == 0 { break }
                shift -= 8
            }
        }
        if let key = header.maskingKey {
            output.append(UInt8(truncatingIfNeeded: key >> 24))
            output.append(UInt8(truncatingIfNeeded: key >> 16))
            output.append(UInt8(truncatingIfNeeded: key >> 8))
            output.append(UInt8(truncatingIfNeeded: key))
        }
    }

    /// Appends a whole frame: the header (its `payloadLength` is set from `payload`) and the
    /// payload, masked with the header's key if it has one.
    @inlinable
    public static func writeFrame(_ header: WebSocketFrameHeader, payload: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        var header = header
        header.payloadLength = UInt64(payload.count)
        writeHeader(header, into: &output)
        appendPayload(payload, maskingKey: header.maskingKey, phase: 0, into: &output)
    }

    /// Appends payload bytes, masking them with `maskingKey` from key index `phase` if given.
    ///
    /// - Returns: the phase for the next payload byte.
    @inlinable
    @discardableResult
    public static func appendPayload(_ payload: UnsafeRawBufferPointer, maskingKey: UInt32?, phase: Int, into output: inout [UInt8]) -> Int {
        guard let key = maskingKey else {
            output.append(contentsOf: payload)
            return phase
        }
        let start = output.count
        output.append(contentsOf: payload)
        return output.withUnsafeMutableBytes { all in
            WebSocketMasking.apply(key: key, phase: phase, to: UnsafeMutableRawBufferPointer(rebasing: all[start...]))
        }
    }
}
