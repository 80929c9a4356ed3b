// Scanning helpers that look at 16 bytes per step (SSE2 `pcmpeqb`, `pminub`, `por` on x86-64),
// with a byte loop for the tail. They read only inside [from, end) of a buffer the caller owns.
// Compare against `SIMD16(repeating:)` vectors: the vector-scalar operator overloads are not
// vectorised by the optimiser here and run lane by lane, 20 times slower.

/// A set of bytes as a 256-bit mask: membership is two shifts and an AND, with no table load.
@usableFromInline
struct ByteSet: Sendable {
    @usableFromInline let words: (UInt64, UInt64, UInt64, UInt64)

    @inlinable
    init(_ w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        words = (w0, w1, w2, w3)
    }

    @inlinable @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        let word: UInt64
        switch byte >> 6 {
        case 0: word = words.0
        case 1: word = words.1
        case 2: word = words.2
        default: word = words.3
        }
        return (word >> UInt64(byte & 63)) & 1 == 1
    }

    /// RFC 9110 §5.6.2 tchar: `!#$%&'*+-.^_`|~`, digits and letters.
    @usableFromInline static let token = ByteSet(0x03ff_6cfa_0000_0000, 0x57ff_ffff_c7ff_fffe, 0, 0)
}

@usableFromInline let asciiCR: UInt8 = 0x0D
@usableFromInline let asciiLF: UInt8 = 0x0A
@usableFromInline let asciiSP: UInt8 = 0x20
@usableFromInline let asciiHTAB: UInt8 = 0x09
@usableFromInline let asciiColon: UInt8 = 0x3A

@inlinable @inline(__always)
func isWhitespace(_ byte: UInt8) -> Bool { byte == asciiSP || byte == asciiHTAB }

/// The index of the first set lane of a 16-lane comparison result.
@inlinable @inline(__always)
func firstLane(_ mask: SIMDMask<SIMD16<Int8>>) -> Int? {
    // Lanes of a mask are 0 or -1: reinterpret as two 64-bit words and count trailing zeros.
    let words = unsafeBitCast(mask, to: SIMD2<UInt64>.self)
    if words[0] != 0 { return words[0].trailingZeroBitCount >> 3 }
    if words[1] != 0 { return 8 + words[1].trailingZeroBitCount >> 3 }
    return nil
}

extension UnsafeRawBufferPointer {
    @inlinable @inline(__always)
    func byte(_ index: Int) -> UInt8 {
        // Callers check `index < count`; this skips the second bounds check.
        self.baseAddress.unsafelyUnwrapped.load(fromByteOffset: index, as: UInt8.self)
    }

    @inlinable @inline(__always)
    func vector(_ index: Int) -> SIMD16<UInt8> {
        self.baseAddress.unsafelyUnwrapped.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
    }

    /// The first CR or LF in `from..<end`, or `nil`.
    @inlinable
    func firstLineBreak(from start: Int, to end: Int) -> Int? {
        var i = start
        while i + 16 <= end {
            let v = vector(i)
            if let lane = firstLane((v .== SIMD16(repeating: 0x0D)) .| (v .== SIMD16(repeating: 0x0A))) { return i + lane }
            i += 16
        }
        while i < end {
            let b = byte(i)
            if b == asciiCR || b == asciiLF { return i }
            i += 1
        }
        return nil
    }

    /// The first byte in `from..<end` that is a control byte (below 0x20, HTAB included) or DEL,
    /// or `end`. Field values stop here; obs-text (0x80...0xFF) does not stop them.
    @inlinable
    func firstControlByte(from start: Int, to end: Int) -> Int {
        var i = start
        while i + 16 <= end {
            let v = vector(i)
            if let lane = firstLane((v .< SIMD16(repeating: 0x20)) .| (v .== SIMD16(repeating: 0x7F))) { return i + lane }
            i += 16
        }
        while i < end {
            let b = byte(i)
            if b < asciiSP || b == 0x7F { return i }
            i += 1
        }
        return end
    }

    /// The first byte in `from..<end` that is not visible ASCII (0x21...0x7E), or `end`.
    /// A request-target stops here.
    @inlinable
    func firstNonVisibleASCII(from start: Int, to end: Int) -> Int {
        var i = start
        while i + 16 <= end {
            let v = vector(i)
            // Unsigned compare: 0x80...0xFF are above 0x7E, so they stop the scan too.
            if let lane = firstLane((v .<= SIMD16(repeating: 0x20)) .| (v .>= SIMD16(repeating: 0x7F))) { return i + lane }
            i += 16
        }
        while i < end {
            let b = byte(i)
            if b <= asciiSP || b >= 0x7F { return i }
            i += 1
        }
        return end
    }

    /// The first byte in `from..<end` that is not a token character, or `end`.
    @inlinable
    func firstNonToken(from start: Int, to end: Int) -> Int {
        var i = start
        while i < end, ByteSet.token.contains(byte(i)) { i += 1 }
        return i
    }

    /// Whether `range` equals `lowercase` ignoring ASCII case; `lowercase` must be lowercase.
    @inlinable
    func equalsIgnoringCase(_ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        guard range.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for k in 0..<range.count {
            let b = byte(range.lowerBound + k)
            let lower = b &- 0x41 < 26 ? b | 0x20 : b
            if lower != expected[k] { return false }
        }
        return true
    }

    /// Whether `range` holds exactly `text`.
    @inlinable
    func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        for k in 0..<range.count where byte(range.lowerBound + k) != text.utf8Start[k] {
            return false
        }
        return true
    }
}
