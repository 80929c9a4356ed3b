/// An incremental UTF-8 validator that rejects at the first byte that makes the input invalid.
///
/// Feed the bytes of a text message in any pieces with ``validate(_:)``; call ``finish()`` at
/// the end of the message to reject a truncated sequence. The state is two bytes, so it can
/// live in a machine with no allocation. Runs of ASCII are checked eight bytes per step.
/// Follows Unicode Table 3-7 (well-formed byte sequences): no overlongs, no surrogates, nothing
/// above U+10FFFF.
public struct UTF8Validator: Sendable, Hashable {
    // What the next byte must be.
    @usableFromInline
    enum Expect: UInt8, Sendable {
        case start          // any lead byte or ASCII
        case tail1          // 80..BF, then start
        case tail2          // 80..BF, then tail1
        case tail3          // 80..BF, then tail2
        case afterE0        // A0..BF, then tail1
        case afterED        // 80..9F, then tail1
        case afterF0        // 90..BF, then tail2
        case afterF4        // 80..8F, then tail2
    }

    @usableFromInline
    var expect: Expect = .start

    /// Creates a validator at the start of a text.
    public init() {}

    /// Whether the bytes seen so far end on a complete code point.
    @inlinable
    public var isComplete: Bool { expect == .start }

    /// Validates the next piece of text.
    ///
    /// - Returns: nil if the bytes so far can still be valid UTF-8, otherwise the index in
    ///   `bytes` of the first byte that cannot be. After a failure the validator stays failed
    ///   only if the caller stops; it is the caller's job to abandon the message.
    @inlinable
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var i = 0
        var state = expect
        while i < count {
            if state == .start {
                // ASCII fast path: eight bytes at a time while the high bits are clear.
                while i &+ 8 <= count {
                    let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    if word & 0x8080_8080_8080_8080 != 0 { break }
                    i &+= 8
                }
                // Whole sequences while four bytes are in sight: no state kept between bytes.
                while i &+ 4 <= count {
                    let b0 = base.load(fromByteOffset: i, as: UInt8.self)
                    if b0 < 0x80 {
                        i &+= 1
                        continue
                    }
                    let b1 = base.load(fromByteOffset: i &+ 1, as: UInt8.self)
                    switch b0 {
                    case 0xC2...0xDF:
                        guard b1 & 0xC0 == 0x80 else { expect = .start; return i &+ 1 }
                        i &+= 2
                    case 0xE0...0xEF:
                        let low: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
                        let high: UInt8 = b0 == 0xED ? 0x9F : 0xBF
                        guard b1 >= low && b1 <= high else { expect = .start; return i &+ 1 }
                        guard base.load(fromByteOffset: i &+ 2, as: UInt8.self) & 0xC0 == 0x80 else { expect = .start; return i &+ 2 }
                        i &+= 3
                    case 0xF0...0xF4:
                        let low: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
                        let high: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
                        guard b1 >= low && b1 <= high else { expect = .start; return i &+ 1 }
                        guard base.load(fromByteOffset: i &+ 2, as: UInt8.self) & 0xC0 == 0x80 else { expect = .start; return i &+ 2 }
                        guard base.load(fromByteOffset: i &+ 3, as: UInt8.self) & 0xC0 == 0x80 else { expect = .start; return i &+ 3 }
                        i &+= 4
                    default:
                        expect = .start
                        return i
                    }
                }
                if i == count { break }
            }
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            switch state {
            case .start:
                switch b {
                case 0x00...0x7F: break
                case 0xC2...0xDF: state = .tail1
                case 0xE0: state = .afterE0
                case 0xE1...0xEC, 0xEE...0xEF: state = .tail2
                case 0xED: state = .afterED
                case 0xF0: state = .afterF0
                case 0xF1...0xF3: state = .tail3
                case 0xF4: state = .afterF4
                default: expect = state; return i
                }
            case .tail1:
                guard b & 0xC0 == 0x80 else { expect = state; return i }
                state = .start
            case .tail2:
                guard b & 0xC0 == 0x80 else { expect = state; return i }
                state = .tail1
            case .tail3:
                guard b & 0xC0 == 0x80 else { expect = state; return i }
                state = .tail2
            case .afterE0:
                guard b >= 0xA0 && b <= 0xBF else { expect = state; return i }
                state = .tail1
            case .afterED:
                guard b >= 0x80 && b <= 0x9F else { expect = state; return i }
                state = .tail1
            case .afterF0:
                guard b >= 0x90 && b <= 0xBF else { expect = state; return i }
                state = .tail2
            case .afterF4:
                guard b >= 0x80 && b <= 0x8F else { expect = state; return i }
                state = .tail2
            }
            i &+= 1
        }
        expect = state
        return nil
    }

    /// Validates a whole byte collection at once (convenience for tests and tooling).
    public static func isValid(_ bytes: some Collection<UInt8>) -> Bool {
        var v = UTF8Validator()
        let failed: Int?? = bytes.withContiguousStorageIfAvailable { v.validate(UnsafeRawBufferPointer($0)) }
        if let failed {
            return failed == nil && v.isComplete
        }
        let copy = Array(bytes)
        return copy.withUnsafeBytes { v.validate($0) } == nil && v.isComplete
    }

    /// Resets to the start of a new text.
    @inlinable
    public mutating func reset() { expect = .start }
}
