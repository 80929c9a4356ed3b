@_spi(EpsilonInternal) import EpsilonBytes

/// The integer representation of RFC 7541 §5.1.
enum HPACKInteger {
    /// At most this many continuation octets are accepted: 5 carry 35 bits, more than a
    /// 32-bit value needs (SwiftNIO advisory GHSA-xq39-7wp8-6mxj class of bugs).
    static let maxContinuationBytes = 5

    /// Reads an integer whose first octet is at `position`, with an `prefixBits`-bit prefix.
    @inline(__always)
    static func decode(
        _ input: UnsafeRawBufferPointer, at position: inout Int, prefixBits: Int
    ) throws(HPACKError) -> Int {
        let start = position
        let mask = (1 &<< prefixBits) &- 1
        var value = Int(input[position]) & mask
        position &+= 1
        if value < mask { return value }
        var shift = 0
        var continuations = 0
        while true {
            guard position < input.count else { throw HPACKError(.truncatedInteger, offset: start) }
            continuations &+= 1
            guard continuations <= maxContinuationBytes else {
                throw HPACKError(.integerTooLong, offset: start)
            }
            let byte = Int(input[position])
            position &+= 1
            value &+= (byte & 0x7F) &<< shift
            shift &+= 7
            if byte & 0x80 == 0 { break }
        }
        guard value <= Int(UInt32.max) else { throw HPACKError(.integerOverflow, offset: start) }
        return value
    }

    /// Appends `value` with an `prefixBits`-bit prefix; `flags` fills the bits above the prefix.
    @inline(__always)
    static func encode(_ value: Int, prefixBits: Int, flags: UInt8, into output: inout [UInt8]) {
        let mask = (1 &<< prefixBits) &- 1
        if value < mask {
            output.append(flags | UInt8(truncatingIfNeeded: value))
            return
        }
        output.append(flags | UInt8(truncatingIfNeeded: mask))
        var rest = value &- mask
        while rest >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: rest & 0x7F) | 0x80)
            rest &>>= 7
        }
        output.append(UInt8(truncatingIfNeeded: rest))
    }
}

/// Integer primitives of RFC 7541 §5.1, public for tests and tools that build blocks by hand.
public enum HPACKPrimitive {
    /// Appends `value` as an integer with an `prefixBits`-bit prefix (1...8); `flags` holds the
    /// representation's bits above the prefix.
    public static func appendInteger(
        _ value: Int, prefixBits: Int, flags: UInt8 = 0, to output: inout [UInt8]
    ) {
        precondition((1...8).contains(prefixBits) && value >= 0, "invalid integer or prefix")
        HPACKInteger.encode(value, prefixBits: prefixBits, flags: flags, into: &output)
    }

    /// Reads an integer with an `prefixBits`-bit prefix from the start of `bytes`, returning
    /// its value and the number of octets it used.
    ///
    /// Throws ``HPACKError/Rule/truncatedInteger``, ``HPACKError/Rule/integerTooLong`` or
    /// ``HPACKError/Rule/integerOverflow``.
    public static func readInteger(
        _ bytes: [UInt8], prefixBits: Int
    ) throws(HPACKError) -> (value: Int, length: Int) {
        precondition((1...8).contains(prefixBits), "invalid prefix")
        guard !bytes.isEmpty else { throw HPACKError(.truncatedInteger, offset: 0) }
        var position = 0
        let value = try bytes.withBytes { raw throws(HPACKError) in
            try HPACKInteger.decode(raw, at: &position, prefixBits: prefixBits)
        }
        return (value, position)
    }
}
