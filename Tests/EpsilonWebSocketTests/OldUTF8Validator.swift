/// WebSocketUTF8Validator as it was before its vector path (issue 19), verbatim but for its
/// name and access: the test oracle. An incremental UTF-8 validator that rejects at the first
/// byte that makes the input invalid.
///
/// Feed the bytes of a text message in any pieces with ``validate(_:)``; call ``finish()`` at
/// the end of the message to reject a truncated sequence. The state is two bytes, so it can
/// live in a machine with no allocation. Runs of ASCII are checked sixteen bytes per step, the
/// rest by a table-driven DFA, one shift per byte.
/// Follows Unicode Table 3-7 (well-formed byte sequences): no overlongs, no surrogates, nothing
/// above U+10FFFF.
struct OldUTF8Validator: Sendable, Hashable {
    // What the next byte must be.
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

    var expect: Expect = .start

    /// Creates a validator at the start of a text.
    init() {}

    /// Whether the bytes seen so far end on a complete code point.
    var isComplete: Bool { expect == .start }

    // The same states as a shift-based DFA (Unicode Table 3-7): state k (an `Expect` raw
    // value, or 8 for "rejected") is the shift amount 6k, and `transitions[byte]` holds, at
    // bits 6k..6k+5, the shift amount of the state that follows k on that byte. One table load
    // (which does not depend on the state) and one shift per byte, no branch per byte: on text
    // mixing 1- to 4-byte sequences this is about 1.8x the per-sequence switch it replaced,
    // whose branches mispredict when scripts alternate.
    static let rejected: UInt64 = 48

    static let transitions: [UInt64] = (0..<256).map { byte -> UInt64 in
        var row: UInt64 = 0
        for state in 0..<9 { row |= UInt64(successor(of: state, UInt8(byte)) &* 6) << UInt64(state &* 6) }
        return row
    }

    /// The state after `byte` in `state` (0...7: the `Expect` cases in order, 8: rejected).
    static func successor(of state: Int, _ byte: UInt8) -> Int {
        switch state {
        case 0:  // start
            switch byte {
            case 0x00...0x7F: return 0
            case 0xC2...0xDF: return 1
            case 0xE0: return 4
            case 0xE1...0xEC, 0xEE...0xEF: return 2
            case 0xED: return 5
            case 0xF0: return 6
            case 0xF1...0xF3: return 3
            case 0xF4: return 7
            default: return 8
            }
        case 1: return (0x80...0xBF).contains(byte) ? 0 : 8  // tail1
        case 2: return (0x80...0xBF).contains(byte) ? 1 : 8  // tail2
        case 3: return (0x80...0xBF).contains(byte) ? 2 : 8  // tail3
        case 4: return (0xA0...0xBF).contains(byte) ? 1 : 8  // afterE0
        case 5: return (0x80...0x9F).contains(byte) ? 1 : 8  // afterED
        case 6: return (0x90...0xBF).contains(byte) ? 2 : 8  // afterF0
        case 7: return (0x80...0x8F).contains(byte) ? 2 : 8  // afterF4
        default: return 8
        }
    }

    /// Validates the next piece of text.
    ///
    /// - Returns: nil if the bytes so far can still be valid UTF-8, otherwise the index in
    ///   `bytes` of the first byte that cannot be. After a failure the validator stays failed
    ///   only if the caller stops; it is the caller's job to abandon the message.
    mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var state = UInt64(expect.rawValue) &* 6
        let failure: Int? = Self.transitions.withUnsafeBufferPointer { table -> Int? in
            var i = 0
            while i < count {
                if state == 0 {
                    // ASCII fast path: sixteen bytes per step while the high bits are clear.
                    while i &+ 16 <= count {
                        let low = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                        let high = base.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)
                        if (low | high) & 0x8080_8080_8080_8080 != 0 { break }
                        i &+= 16
                    }
                    if i == count { break }
                }
                // The DFA over the next 16 bytes at most, then back to the ASCII path if the
                // block ended between sequences. `&>>` uses the low 6 bits of the state only.
                let start = i
                let end = Swift.min(count, i &+ 16)
                var next = state
                while i &+ 4 <= end {
                    next = table[Int(base.load(fromByteOffset: i, as: UInt8.self))] &>> next
                    next = table[Int(base.load(fromByteOffset: i &+ 1, as: UInt8.self))] &>> next
                    next = table[Int(base.load(fromByteOffset: i &+ 2, as: UInt8.self))] &>> next
                    next = table[Int(base.load(fromByteOffset: i &+ 3, as: UInt8.self))] &>> next
                    i &+= 4
                }
                while i < end {
                    next = table[Int(base.load(fromByteOffset: i, as: UInt8.self))] &>> next
                    i &+= 1
                }
                next &= 63
                if next == Self.rejected {
                    // Rejected stays rejected: walk the block again to find the first bad byte.
                    var walk = state
                    var j = start
                    while j < end {
                        walk = (table[Int(base.load(fromByteOffset: j, as: UInt8.self))] &>> walk) & 63
                        if walk == Self.rejected { return j }
                        j &+= 1
                    }
                    return end &- 1  // not reached: the walk repeats the block's transitions
                }
                state = next
            }
            return nil
        }
        if let failure {
            expect = .start
            return failure
        }
        expect = Expect(rawValue: UInt8(truncatingIfNeeded: state / 6)) ?? .start
        return nil
    }

    /// Validates a whole byte collection at once (convenience for tests and tooling).
    static func isValid(_ bytes: some Collection<UInt8>) -> Bool {
        var v = OldUTF8Validator()
        let failed: Int?? = bytes.withContiguousStorageIfAvailable { v.validate(UnsafeRawBufferPointer($0)) }
        if let failed {
            return failed == nil && v.isComplete
        }
        let copy = Array(bytes)
        return copy.withUnsafeBytes { v.validate($0) } == nil && v.isComplete
    }

    /// Resets to the start of a new text.
    mutating func reset() { expect = .start }
}
