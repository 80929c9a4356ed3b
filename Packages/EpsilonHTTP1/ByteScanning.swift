// Scanning helpers that test 8 bytes per step with word arithmetic (SWAR), with a byte loop
// for the tail. They read only inside [from, end) of a buffer the caller owns.
// Why not SIMD16: Swift 6.3's generic SIMD comparisons (`.==`, `.<`, `pointwiseMin`) compile
// to pcmpeqb in some call sites and to a lane-by-lane loop in others (checked with
// -emit-assembly and callgrind), so the word form is the one that is fast everywhere.

/// RFC 9110 §5.6.2 tchar as a 256-entry table, `1` for a token byte: one load per byte.
/// A static string costs no initialisation and no bounds check.
@usableFromInline let tokenTable: StaticString = """
0000000000000000000000000000000001011111001101101111111111000000\
0111111111111111111111111110001111111111111111111111111111101010\
0000000000000000000000000000000000000000000000000000000000000000\
0000000000000000000000000000000000000000000000000000000000000000
"""

/// Whether `byte` is an RFC 9110 §5.6.2 tchar.
@inlinable @inline(__always)
func isTokenByte(_ byte: UInt8) -> Bool { tokenTable.utf8Start[Int(byte)] == 0x31 }

@usableFromInline let asciiCR: UInt8 = 0x0D
@usableFromInline let asciiLF: UInt8 = 0x0A
@usableFromInline let asciiSP: UInt8 = 0x20
@usableFromInline let asciiHTAB: UInt8 = 0x09
@usableFromInline let asciiColon: UInt8 = 0x3A

@inlinable @inline(__always)
func isWhitespace(_ byte: UInt8) -> Bool { byte == asciiSP || byte == asciiHTAB }

/// Word-at-a-time (SWAR) byte tests on 8 bytes loaded little-endian. Each returns a word
/// with bit 7 of a byte set where the test holds. Borrows can set bits above a byte that
/// matches, never below it, so the lowest set bit always marks the first matching byte
/// (`trailingZeroBitCount >> 3`), which is all the scanners use.
@usableFromInline
enum Word {
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Bytes of `x` below `n` (n ≤ 0x80); bytes of 0x80 and more never match.
    @inlinable @inline(__always)
    static func below(_ x: UInt64, _ n: UInt8) -> UInt64 {
        (x &- ones &* UInt64(n)) & ~x & highBits
    }

    /// Bytes of `x` equal to `byte`.
    @inlinable @inline(__always)
    static func equal(_ x: UInt64, _ byte: UInt8) -> UInt64 {
        below(x ^ (ones &* UInt64(byte)), 1)
    }
}

extension UnsafeRawBufferPointer {
    @inlinable @inline(__always)
    func byte(_ index: Int) -> UInt8 {
        // Callers check `index < count`; this skips the second bounds check.
        self.baseAddress.unsafelyUnwrapped.load(fromByteOffset: index, as: UInt8.self)
    }

    @inlinable @inline(__always)
    func word(_ index: Int) -> UInt64 {
        UInt64(littleEndian: self.baseAddress.unsafelyUnwrapped.loadUnaligned(fromByteOffset: index, as: UInt64.self))
    }

    /// The first CR or LF in `from..<end`, or `nil`.
    @inlinable
    func firstLineBreak(from start: Int, to end: Int) -> Int? {
        var i = start
        while i + 8 <= end {
            let x = word(i)
            let stop = Word.equal(x, 0x0D) | Word.equal(x, 0x0A)
            if stop != 0 { return i + stop.trailingZeroBitCount >> 3 }
            i += 8
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
        while i + 8 <= end {
            let x = word(i)
            let stop = Word.below(x, 0x20) | Word.equal(x, 0x7F)
            if stop != 0 { return i + stop.trailingZeroBitCount >> 3 }
            i += 8
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
        while i + 8 <= end {
            let x = word(i)
            let stop = Word.below(x, 0x21) | Word.equal(x, 0x7F) | (x & Word.highBits)
            if stop != 0 { return i + stop.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < end {
            let b = byte(i)
            if b <= asciiSP || b >= 0x7F { return i }
            i += 1
        }
        return end
    }

    /// The first byte in `from..<end` that is not a token character, or `end`.
    /// One table load per byte: field names are short, and the token set has too many
    /// holes for a word-wide test to pay off.
    @inlinable
    func firstNonToken(from start: Int, to end: Int) -> Int {
        var i = start
        while i < end, isTokenByte(byte(i)) { i += 1 }
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

    /// Whether the token in `range` equals `lowercase` ignoring ASCII case, 8 bytes a step.
    /// Only for tokens: OR-ing 0x20 lowercases letters and changes no other token byte into
    /// a letter or `-`, so the comparison is exact for `lowercase` made of letters, digits and `-`.
    @inlinable
    func tokenEqualsIgnoringCase(_ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        let count = range.count
        guard count == lowercase.utf8CodeUnitCount else { return false }
        let base = baseAddress.unsafelyUnwrapped + range.lowerBound
        let expected = UnsafeRawPointer(lowercase.utf8Start)
        var k = 0
        while k + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: k, as: UInt64.self) | 0x2020_2020_2020_2020
            if word != expected.loadUnaligned(fromByteOffset: k, as: UInt64.self) { return false }
            k += 8
        }
        while k < count {
            if base.load(fromByteOffset: k, as: UInt8.self) | 0x20 != expected.load(fromByteOffset: k, as: UInt8.self) { return false }
            k += 1
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
