// The usual chunk-size line when at least eight bytes are at hand: 1 to 6 hex digits (chunks
// under 16 MiB) and CRLF, read without a bounds check per digit (the eight bytes cover the
// longest such line). Any other line is left to the byte loop of `plainChunkSize`, which
// decides; the result is the same either way (HTTP1ChunkLoopTests).

extension HTTP1Parser {
    /// The size and number of digits of a chunk-size line of 1 to 6 hex digits and CRLF at the
    /// start of `rest`, within `lineLimit`; nil when `rest` holds fewer than eight bytes or
    /// the line is of another form.
    @inlinable @inline(__always)
    func shortChunkSize(_ rest: UnsafeRawBufferPointer, lineLimit: Int) -> (UInt64, Int)? {
        guard rest.count >= 8, var size = hexDigitValue(rest.byte(0)) else { return nil }
        var digits = 1
        // A constant trip count: the compiler unrolls it, each digit a load, a check, a shift.
        while digits < 6 {
            // The CR ending the digits is tested before the letters: it ends every line.
            let byte = rest.byte(digits)
            let digit: UInt64
            let decimal = UInt64(byte) &- 0x30
            if decimal < 10 {
                digit = decimal
            } else {
                guard byte != 0x0D, let letter = hexDigitValue(byte) else { break }
                digit = letter
            }
            size = size &<< 4 | digit
            digits &+= 1
        }
        guard digits &+ 2 <= lineLimit && rest.pair(digits) == crlfPair else { return nil }
        return (size, digits)
    }
}

/// The value of the hex digit `byte` (0-9, a-f, A-F), widened; nil for any other byte.
@inlinable @inline(__always)
func hexDigitValue(_ byte: UInt8) -> UInt64? {
    let wide = UInt64(byte)
    let digit = wide &- 0x30
    if digit < 10 { return digit }
    // a-f and A-F: setting bit 5 folds the capitals onto the small letters.
    let letter = (wide | 0x20) &- 0x61
    return letter < 6 ? letter &+ 10 : nil
}
