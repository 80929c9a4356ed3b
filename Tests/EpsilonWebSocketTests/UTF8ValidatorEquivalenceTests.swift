import EpsilonWebSocket
import Testing

/// The vector validator against the old one (the oracle): every invalid sequence class at every offset
/// of ASCII and of mixed text, every split, random and adversarial input, and buffers that
/// start at every alignment. The outcome compared is the stream index of the first invalid
/// byte, or the stream length when the text ends inside a sequence, or nil.
@Suite struct UTF8ValidatorEquivalence {
    /// Mixed text (1- to 4-byte sequences, about 300 bytes: several 64-byte blocks).
    static let mixed = Array(("The quick brown fox, Größe façade, Съешь же ещё этих булок, 敏捷的棕色狐狸, 🦊🐶✨ "
        + "ऋषि देवनागरी 한국어 텍스트 \u{10FFFF}\u{FFFF}\u{800}\u{7FF}\u{80} and some ASCII to close the piece off.").utf8)
    static let ascii = Array(String(repeating: "ASCII only, as JSON is: {\"k\":1} ", count: 8).utf8)

    /// Each invalid class, as bytes that make the text invalid wherever they are put between
    /// code points (the first byte that cannot be valid is the one the oracle names).
    static let invalidClasses: [[UInt8]] = [
        [0x80], [0xBF], [0x80, 0x80, 0x80],                         // continuation without a lead
        [0xC0, 0x80], [0xC1, 0xBF],                                 // never-valid leads (overlong 2-byte)
        [0xF5, 0x80, 0x80, 0x80], [0xF8], [0xFE], [0xFF],           // never-valid bytes
        [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],                     // overlong 3-byte
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],                     // surrogates
        [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],         // overlong 4-byte
        [0xF4, 0x90, 0x80, 0x80], [0xF4, 0xBF, 0xBF, 0xBF],         // above U+10FFFF
        [0xC2], [0xDF], [0xE1, 0x80], [0xEF], [0xF1, 0x80, 0x80], [0xF4, 0x8F], // truncated, then more text
        [0xC2, 0x80, 0x80], [0xE1, 0x80, 0x80, 0x80],               // one continuation too many
        [0xC2, 0xC2, 0x80], [0xE1, 0xE1, 0x80, 0x80],               // a lead where a continuation is owed
        [0xE0, 0xA0], [0xF0, 0x90, 0x80],                           // truncated after a range-checked lead
    ]

    /// Valid sequences of every length and every range-checked lead, at their edges.
    static let validSequences: [[UInt8]] = [
        [0x7F], [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xE1, 0x80, 0x80], [0xED, 0x9F, 0xBF],
        [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF3, 0xBF, 0xBF, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF],
    ]

    /// The oracle's outcome on a whole buffer (the old validator, OldUTF8Validator.swift).
    static func expected(_ bytes: [UInt8]) -> Int? {
        var oracle = OldUTF8Validator()
        if let bad = bytes.withUnsafeBytes({ oracle.validate($0) }) { return bad }
        return oracle.isComplete ? nil : bytes.count
    }

    /// The validator's outcome on `bytes` fed in the pieces `cuts` makes, as a stream index.
    static func outcome(_ bytes: [UInt8], cuts: [Int] = []) -> Int? {
        var validator = WebSocketUTF8Validator()
        var start = 0
        for end in cuts + [bytes.count] {
            let piece = Array(bytes[start..<end])
            if let bad = piece.withUnsafeBytes({ validator.validate($0) }) { return start + bad }
            start = end
        }
        return validator.isComplete ? nil : bytes.count
    }

    /// Code point boundaries of valid UTF-8 `text`, ends included.
    static func boundaries(_ text: [UInt8]) -> [Int] {
        (0...text.count).filter { $0 == text.count || text[$0] & 0xC0 != 0x80 }
    }

    /// The two base texts by name (a test argument that prints short).
    static func text(_ name: String) -> [UInt8] { name == "ascii" ? ascii : mixed }

    @Test(arguments: ["mixed", "ascii"])
    func everyInvalidClassAtEveryOffset(_ name: String) {
        let text = Self.text(name)
        for invalid in Self.invalidClasses {
            for offset in Self.boundaries(text) {
                var bytes = text
                bytes.insert(contentsOf: invalid, at: offset)
                let expected = Self.expected(bytes)
                #expect(expected != nil, "\(invalid) at \(offset) is not invalid")
                #expect(Self.outcome(bytes) == expected, "\(invalid) at \(offset)")
            }
        }
    }

    @Test(arguments: ["mixed", "ascii"])
    func everyInvalidByteAtEveryByteOffset(_ name: String) {
        let text = Self.text(name)
        // Mid-sequence too: the oracle decides where it fails.
        for byte: UInt8 in [0x00, 0x41, 0x80, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF] {
            for offset in 0...text.count {
                var bytes = text
                bytes.insert(byte, at: offset)
                #expect(Self.outcome(bytes) == Self.expected(bytes), "\(byte) at \(offset)")
                bytes = text
                if offset < text.count {
                    bytes[offset] = byte
                    #expect(Self.outcome(bytes) == Self.expected(bytes), "\(byte) over \(offset)")
                }
            }
        }
    }

    @Test func everyValidSequenceAtEveryOffsetOfASCII() {
        for sequence in Self.validSequences {
            for offset in 0...Self.ascii.count {
                var bytes = Self.ascii
                bytes.insert(contentsOf: sequence, at: offset)
                #expect(Self.outcome(bytes) == nil, "\(sequence) at \(offset)")
                // Cut short at the end of the text: incomplete, reported at the end.
                let cut = Array(bytes[..<(offset + sequence.count - 1)])
                if sequence.count > 1 { #expect(Self.outcome(cut) == cut.count, "\(sequence) cut at \(offset)") }
            }
        }
    }

    @Test func everySplitGivesTheSameOutcome() {
        var inputs = [Self.mixed, Self.ascii]
        for (k, invalid) in Self.invalidClasses.enumerated() {
            var bytes = Self.mixed
            bytes.insert(contentsOf: invalid, at: Self.boundaries(Self.mixed)[(k * 37) % Self.boundaries(Self.mixed).count])
            inputs.append(bytes)
        }
        for bytes in inputs {
            let expected = Self.expected(bytes)
            for cut in 0...bytes.count {
                #expect(Self.outcome(bytes, cuts: [cut]) == expected, "cut at \(cut) of \(bytes.count)")
            }
            #expect(Self.outcome(bytes, cuts: Array(0..<bytes.count)) == expected, "byte by byte")
        }
    }

    @Test func everyAlignmentOfTheBuffer() {
        // The vectors load from 3 bytes before each block: pieces starting anywhere in memory.
        let storage = [UInt8](repeating: 0xFF, count: 16) + Self.mixed + [UInt8](repeating: 0xFF, count: 16)
        for shift in 0..<16 {
            for length in [Self.mixed.count, 64, 67, 80, 129] where length <= Self.mixed.count {
                let bytes = Array(Self.mixed[..<length])
                let expected = Self.expected(bytes)
                var validator = WebSocketUTF8Validator()
                var copy = storage
                copy.replaceSubrange(shift..<(shift + length), with: bytes)
                let bad = copy.withUnsafeBytes { validator.validate(UnsafeRawBufferPointer(rebasing: $0[shift..<(shift + length)])) }
                #expect((bad ?? (validator.isComplete ? nil : length)) == expected, "shift \(shift), length \(length)")
            }
        }
    }

    @Test func randomInputAndRandomSplits() {
        var random = Xoshiro(seed: 0x5EED_1919)
        let pool: [UInt8] = [0x00, 0x20, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                             0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        let scalars: [Unicode.Scalar] = ["a", "\u{7F}", "\u{80}", "é", "\u{7FF}", "\u{800}", "€", "\u{D7FF}",
                                         "\u{E000}", "\u{FFFF}", "\u{10000}", "😀", "\u{10FFFF}"]
        for round in 0..<4_000 {
            var bytes: [UInt8] = []
            let length = Int(random.next() % 300)
            if round % 2 == 0 {
                // Mostly valid text with a few corrupted bytes: the hard case for a filter.
                while bytes.count < length {
                    if random.next() % 3 == 0 {
                        bytes += Array(repeating: 0x61, count: Int(random.next() % 40))
                    } else {
                        bytes += Array(String(scalars[Int(random.next() % UInt64(scalars.count))]).utf8)
                    }
                }
                for _ in 0..<Int(random.next() % 3) where !bytes.isEmpty {
                    bytes[Int(random.next() % UInt64(bytes.count))] = pool[Int(random.next() % UInt64(pool.count))]
                }
            } else {
                bytes = (0..<length).map { _ in pool[Int(random.next() % UInt64(pool.count))] }
            }
            let expected = Self.expected(bytes)
            #expect((expected == nil) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
            var cuts: [Int] = []
            if !bytes.isEmpty { for _ in 0..<Int(random.next() % 4) { cuts.append(Int(random.next() % UInt64(bytes.count + 1))) } }
            #expect(Self.outcome(bytes) == expected, "\(bytes)")
            #expect(Self.outcome(bytes, cuts: cuts.sorted()) == expected, "\(bytes) cut at \(cuts.sorted())")
        }
    }
}

/// Unmasking and validating in one call gives what unmasking, then validating, gives.
@Suite struct UnmaskAndValidate {
    @Test func agreesWithUnmaskingThenValidating() {
        var random = Xoshiro(seed: 0x0DD_BA11)
        let text = Array(String(repeating: "Größe, Съешь, 敏捷的, 🦊 and plain ASCII prose. ", count: 400).utf8)  // ~20 KiB: several pieces
        for round in 0..<200 {
            var payload = Array(text[..<Int(random.next() % UInt64(text.count + 1))])
            if round % 3 == 0, !payload.isEmpty {
                payload[Int(random.next() % UInt64(payload.count))] = [0xFF, 0x80, 0xC0, 0xED][Int(random.next() % 4)]
            }
            let key = UInt32(truncatingIfNeeded: random.next())
            let phase = Int(random.next() % 4)
            var masked = payload
            masked.withUnsafeMutableBytes { _ = WebSocketMasking.apply(key: key, phase: phase, to: $0) }
            var validator = WebSocketUTF8Validator()
            var output = [UInt8](repeating: 0, count: payload.count)
            let (next, bad) = masked.withUnsafeBytes { source in
                output.withUnsafeMutableBytes { validator.unmaskAndValidate(key: key, phase: phase, from: source, to: $0) }
            }
            let expected = UTF8ValidatorEquivalence.expected(payload)
            #expect((bad ?? (validator.isComplete ? nil : payload.count)) == expected, "round \(round)")
            if bad == nil {
                #expect(output == payload, "round \(round)")
                #expect(next == (phase + payload.count) & 3, "round \(round)")
            }
        }
    }
}

/// A small seeded generator (xoshiro256**), so a failure replays.
struct Xoshiro {
    var s: (UInt64, UInt64, UInt64, UInt64)
    init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }
    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3; s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }
}
