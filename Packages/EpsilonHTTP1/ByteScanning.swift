@_spi(EpsilonInternal) import EpsilonBytes

// Scanning helpers that test 8 bytes per step with word arithmetic (SWAR), with a byte loop
// for the tail. They read only inside [from, end) of a buffer the caller owns.
// Why not SIMD16: Swift 6.3's generic SIMD comparisons (`.==`, `.<`, `pointwiseMin`) compile
// to pcmpeqb in some call sites and to a lane-by-lane loop in others (checked with
// -emit-assembly and callgrind), so the word form is the one that is fast everywhere.

// Byte classes shared with the other machines (tokens, whitespace) come from EpsilonBytes,
// whose SPI-public `@inlinable` functions inline into the hot loops (no call per byte).

/// Whether `byte` is an RFC 9110 §5.6.2 tchar.
@inline(__always)
func isTokenByte(_ byte: UInt8) -> Bool { ASCII.isTokenByte(byte) }

/// Whether `byte` is SP or HTAB (RFC 9110 §5.6.3 OWS).
@inline(__always)
func isWhitespace(_ byte: UInt8) -> Bool { ASCII.isWhitespace(byte) }

@usableFromInline let asciiCR: UInt8 = 0x0D
@usableFromInline let asciiLF: UInt8 = 0x0A
@usableFromInline let asciiSP: UInt8 = 0x20
@usableFromInline let asciiHTAB: UInt8 = 0x09
@usableFromInline let asciiColon: UInt8 = 0x3A

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

    /// Bytes of `x` below 0x20 or equal to 0x7F (DEL); bytes of 0x80 and more never match.
    /// On the low 7 bits `y` (no carries between bytes): `y + 0x60` has bit 7 set exactly for
    /// y ≥ 0x20 and `y + 1` exactly for y = 0x7F, so the two agree exactly on the stops.
    @inlinable @inline(__always)
    static func controlOrDEL(_ x: UInt64) -> UInt64 {
        let y = x & 0x7F7F_7F7F_7F7F_7F7F
        return ~(((y &+ 0x6060_6060_6060_6060) ^ (y &+ ones)) | x) & highBits
    }

    /// Whether the 8 bytes of `x` equal those of `e` (lowercase ASCII) ignoring ASCII case:
    /// they may differ only in bit 5 and only where `e` holds a letter (0x61...0x7A, found
    /// without carries since every byte of `e` is below 0x80).
    @inlinable @inline(__always)
    static func equalIgnoringCase(_ x: UInt64, lowercase e: UInt64) -> Bool {
        let letters = ((e &+ 0x1F1F_1F1F_1F1F_1F1F) & ~(e &+ 0x0505_0505_0505_0505) & highBits) &>> 2
        return (x ^ e) & ~letters == 0
    }

    /// Bytes of `x` that are not visible ASCII (0x21...0x7E): like ``controlOrDEL(_:)`` with
    /// 0x5F in place of 0x60, so 0x20 stops too, and every byte of 0x80 and more stops.
    @inlinable @inline(__always)
    static func notVisible(_ x: UInt64) -> UInt64 {
        let y = x & 0x7F7F_7F7F_7F7F_7F7F
        return (~((y &+ 0x5F5F_5F5F_5F5F_5F5F) ^ (y &+ ones)) | x) & highBits
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

    /// The 2 bytes at `index`, little-endian (CR LF is 0x0A0D).
    @inlinable @inline(__always)
    func load16(_ index: Int) -> UInt16 {
        UInt16(littleEndian: self.baseAddress.unsafelyUnwrapped.loadUnaligned(fromByteOffset: index, as: UInt16.self))
    }

    /// The 4 bytes at `index`, little-endian ("GET " is 0x2054_4547).
    @inlinable @inline(__always)
    func load32(_ index: Int) -> UInt32 {
        UInt32(littleEndian: self.baseAddress.unsafelyUnwrapped.loadUnaligned(fromByteOffset: index, as: UInt32.self))
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
    /// Two words per step: values are long enough for it to pay.
    @inlinable
    func firstControlByte(from start: Int, to end: Int) -> Int {
        firstControlByteInlined(from: start, to: end)
    }

    /// ``firstControlByte(from:to:)`` always inlined, for the one hot loop that saves the call.
    @inlinable @inline(__always)
    func firstControlByteInlined(from start: Int, to end: Int) -> Int {
        var i = start
        while i &+ 16 <= end {
            let low = Word.controlOrDEL(word(i)), high = Word.controlOrDEL(word(i &+ 8))
            if low | high != 0 {
                return low != 0 ? i &+ low.trailingZeroBitCount &>> 3 : i &+ 8 &+ high.trailingZeroBitCount &>> 3
            }
            i &+= 16
        }
        if i &+ 8 <= end {
            let stop = Word.controlOrDEL(word(i))
            if stop != 0 { return i &+ stop.trailingZeroBitCount &>> 3 }
            i &+= 8
        }
        while i < end {
            let b = byte(i)
            if b < asciiSP || b == 0x7F { return i }
            i &+= 1
        }
        return end
    }

    /// The first byte in `from..<end` that is not visible ASCII (0x21...0x7E), or `end`.
    /// A request-target stops here. Two words per step, like ``firstControlByte(from:to:)``.
    @inlinable
    func firstNonVisibleASCII(from start: Int, to end: Int) -> Int {
        var i = start
        while i &+ 16 <= end {
            let low = Word.notVisible(word(i)), high = Word.notVisible(word(i &+ 8))
            if low | high != 0 {
                return low != 0 ? i &+ low.trailingZeroBitCount &>> 3 : i &+ 8 &+ high.trailingZeroBitCount &>> 3
            }
            i &+= 16
        }
        if i &+ 8 <= end {
            let stop = Word.notVisible(word(i))
            if stop != 0 { return i &+ stop.trailingZeroBitCount &>> 3 }
            i &+= 8
        }
        while i < end {
            let b = byte(i)
            if b <= asciiSP || b >= 0x7F { return i }
            i &+= 1
        }
        return end
    }

    /// The first byte in `from..<end` that is not a token character, or `end`.
    /// One table load per byte: field names are short, and the token set has too many
    /// holes for a word-wide test to pay off.
    /// Four bytes per bound check.
    @inline(__always)
    func firstNonToken(from start: Int, to end: Int) -> Int {
        var i = start
        while i &+ 4 <= end {
            if !isTokenByte(byte(i)) { return i }
            if !isTokenByte(byte(i &+ 1)) { return i &+ 1 }
            if !isTokenByte(byte(i &+ 2)) { return i &+ 2 }
            if !isTokenByte(byte(i &+ 3)) { return i &+ 3 }
            i &+= 4
        }
        while i < end, isTokenByte(byte(i)) { i &+= 1 }
        return i
    }

    /// Whether `range` equals `lowercase` ignoring ASCII case; `lowercase` must be lowercase
    /// ASCII. Exact for any bytes in `range`: only an uppercase letter matches its lowercase.
    /// 8 bytes a step (the last step overlapping) when there are at least 8.
    @inlinable
    func equalsIgnoringCase(_ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        let count = range.count
        guard count == lowercase.utf8CodeUnitCount else { return false }
        let base = baseAddress.unsafelyUnwrapped + range.lowerBound
        let expected = UnsafeRawPointer(lowercase.utf8Start)
        if count >= 8 {
            var k = 0
            while true {
                let x = base.loadUnaligned(fromByteOffset: k, as: UInt64.self)
                let e = expected.loadUnaligned(fromByteOffset: k, as: UInt64.self)
                guard Word.equalIgnoringCase(x, lowercase: e) else { return false }
                if k &+ 8 == count { return true }
                k = Swift.min(k &+ 8, count &- 8)
            }
        }
        for k in 0..<count {
            let b = base.load(fromByteOffset: k, as: UInt8.self)
            let lower = b &- 0x41 < 26 ? b | 0x20 : b
            if lower != expected.load(fromByteOffset: k, as: UInt8.self) { return false }
        }
        return true
    }

    /// Whether the token in `range` equals `lowercase` ignoring ASCII case, 8 bytes a step (the
    /// last step overlapping), or two overlapping 4-byte words for 4 to 7 bytes.
    /// Only for tokens: OR-ing 0x20 lowercases letters and changes no other token byte into
    /// a letter or `-`, so the comparison is exact for `lowercase` made of letters, digits and `-`.
    @inlinable
    func tokenEqualsIgnoringCase(_ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        let count = range.count
        guard count == lowercase.utf8CodeUnitCount else { return false }
        let base = baseAddress.unsafelyUnwrapped + range.lowerBound
        let expected = UnsafeRawPointer(lowercase.utf8Start)
        if count >= 8 {
            var k = 0
            while true {
                let word = base.loadUnaligned(fromByteOffset: k, as: UInt64.self) | 0x2020_2020_2020_2020
                if word != expected.loadUnaligned(fromByteOffset: k, as: UInt64.self) { return false }
                if k &+ 8 == count { return true }
                k = Swift.min(k &+ 8, count &- 8)
            }
        }
        if count >= 4 {
            let last = count &- 4
            return base.loadUnaligned(as: UInt32.self) | 0x2020_2020 == expected.loadUnaligned(as: UInt32.self)
                && base.loadUnaligned(fromByteOffset: last, as: UInt32.self) | 0x2020_2020
                    == expected.loadUnaligned(fromByteOffset: last, as: UInt32.self)
        }
        for k in 0..<count where base.load(fromByteOffset: k, as: UInt8.self) | 0x20 != expected.load(fromByteOffset: k, as: UInt8.self) {
            return false
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
