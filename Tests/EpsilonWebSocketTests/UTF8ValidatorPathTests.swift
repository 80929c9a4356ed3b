@_spi(EpsilonInternal) import EpsilonWebSocket
import Testing

/// Every instruction-set path of the bulk check (the portable Swift vectors and each shuffle
/// kernel this CPU supports) against the old validator (the oracle), on texts long enough for
/// whole 64-byte blocks: each invalid class at every offset of a window that crosses block
/// edges, random input with random splits, and unmasking in the same pass.
@Suite struct UTF8ValidatorPaths {
    /// About 1 KiB of mixed text: a piece spans many 64-byte blocks.
    static let long = Array(repeating: UTF8ValidatorEquivalence.mixed, count: 4).joined().map { $0 }

    /// The outcome of `bytes` fed in pieces cut at `cuts`, on `isa`, as a stream index.
    static func outcome(_ bytes: [UInt8], cuts: [Int] = [], on isa: WebSocketUTF8Validator.InstructionSet) -> Int? {
        var validator = WebSocketUTF8Validator()
        var start = 0
        for end in cuts + [bytes.count] {
            let piece = Array(bytes[start..<end])
            if let bad = piece.withUnsafeBytes({ validator.validate($0, using: isa) }) { return start + bad }
            start = end
        }
        return validator.isComplete ? nil : bytes.count
    }

    /// The outcome of unmasking and validating `payload` (masked here with `key` from `phase`)
    /// in pieces, on `isa`; also checks the unmasked bytes before the failure and the phases.
    static func unmaskedOutcome(_ payload: [UInt8], key: UInt32, phase: Int, cuts: [Int],
                                on isa: WebSocketUTF8Validator.InstructionSet) -> Int? {
        var masked = payload
        masked.withUnsafeMutableBytes { _ = WebSocketMasking.apply(key: key, phase: phase, to: $0) }
        var output = [UInt8](repeating: 0, count: payload.count)
        var validator = WebSocketUTF8Validator()
        var start = 0
        var keyPhase = phase
        for end in cuts + [payload.count] {
            let (next, bad) = masked.withUnsafeBytes { source in
                output.withUnsafeMutableBytes { out in
                    validator.unmaskAndValidate(key: key, phase: keyPhase, from: UnsafeRawBufferPointer(rebasing: source[start..<end]),
                                                to: UnsafeMutableRawBufferPointer(rebasing: out[start..<end]), using: isa)
                }
            }
            if let bad {
                #expect(output[..<(start + bad)] == payload[..<(start + bad)], "\(isa): unmasked bytes before the failure")
                return start + bad
            }
            #expect(next == (phase + end) & 3, "\(isa): phase after \(end)")
            start = end
            keyPhase = next
        }
        #expect(output == payload, "\(isa): unmasked payload")
        return validator.isComplete ? nil : payload.count
    }

    static var paths: [WebSocketUTF8Validator.InstructionSet] { WebSocketUTF8Validator.InstructionSet.supported }

    @Test func thisMachineHasAShuffleKernel() {
        // The CI machine and the development machine are x86-64 with at least SSSE3.
        #if arch(x86_64)
        #expect(WebSocketUTF8Validator.InstructionSet.best != .portable)
        #endif
        #expect(Self.paths.first == .portable)
    }

    @Test(arguments: paths)
    func everyInvalidClassAcrossBlockEdges(_ isa: WebSocketUTF8Validator.InstructionSet) {
        let text = Self.long
        // Sequence boundaries from 100 to 300: several 64-byte block edges, at every phase of them.
        let offsets = UTF8ValidatorEquivalence.boundaries(text).filter { (100...300).contains($0) }
        for invalid in UTF8ValidatorEquivalence.invalidClasses {
            for offset in offsets {
                var bytes = text
                bytes.insert(contentsOf: invalid, at: offset)
                let expected = UTF8ValidatorEquivalence.expected(bytes)
                #expect(Self.outcome(bytes, on: isa) == expected, "\(isa): \(invalid) at \(offset)")
                #expect(Self.outcome(bytes, cuts: [offset / 2], on: isa) == expected, "\(isa): \(invalid) at \(offset), split")
            }
        }
    }

    @Test(arguments: paths)
    func everyInvalidClassAtEveryOffsetOfShortTexts(_ isa: WebSocketUTF8Validator.InstructionSet) {
        // 260 to 330 bytes: a few whole blocks, then a tail under 64 bytes the portable code checks.
        for text in [UTF8ValidatorEquivalence.mixed, UTF8ValidatorEquivalence.ascii] {
            for invalid in UTF8ValidatorEquivalence.invalidClasses {
                for offset in UTF8ValidatorEquivalence.boundaries(text) {
                    var bytes = text
                    bytes.insert(contentsOf: invalid, at: offset)
                    let expected = UTF8ValidatorEquivalence.expected(bytes)
                    #expect(Self.outcome(bytes, on: isa) == expected, "\(isa): \(invalid) at \(offset)")
                    #expect(Self.unmaskedOutcome(bytes, key: 0x37FA_213D, phase: offset & 3, cuts: [], on: isa) == expected,
                            "\(isa): \(invalid) at \(offset), unmasking")
                }
            }
        }
    }

    @Test(arguments: paths)
    func everyByteOverEveryOffset(_ isa: WebSocketUTF8Validator.InstructionSet) {
        let text = Self.long
        for byte: UInt8 in [0x41, 0x80, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF] {
            for offset in 60..<200 {
                var bytes = text
                bytes[offset] = byte
                #expect(Self.outcome(bytes, on: isa) == UTF8ValidatorEquivalence.expected(bytes), "\(isa): \(byte) over \(offset)")
            }
        }
    }

    @Test(arguments: paths)
    func randomInputAndRandomSplits(_ isa: WebSocketUTF8Validator.InstructionSet) {
        var random = Xoshiro(seed: 0x5EED_2019 &+ UInt64(isa.rawValue))
        let scalars: [Unicode.Scalar] = ["a", "\u{7F}", "\u{80}", "é", "\u{7FF}", "\u{800}", "€", "\u{D7FF}",
                                         "\u{E000}", "\u{FFFF}", "\u{10000}", "😀", "\u{10FFFF}"]
        let pool: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                             0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF3, 0xF4, 0xF5, 0xFF]
        for round in 0..<1_500 {
            var bytes: [UInt8] = []
            let length = Int(random.next() % 700)
            while bytes.count < length {
                if random.next() % 3 == 0 {
                    bytes += Array(repeating: 0x61, count: Int(random.next() % 100))
                } else {
                    bytes += Array(String(scalars[Int(random.next() % UInt64(scalars.count))]).utf8)
                }
            }
            for _ in 0..<Int(random.next() % 3) where !bytes.isEmpty && round % 4 != 0 {
                bytes[Int(random.next() % UInt64(bytes.count))] = pool[Int(random.next() % UInt64(pool.count))]
            }
            let expected = UTF8ValidatorEquivalence.expected(bytes)
            var cuts: [Int] = []
            for _ in 0..<Int(random.next() % 3) { cuts.append(Int(random.next() % UInt64(bytes.count + 1))) }
            cuts.sort()
            #expect(Self.outcome(bytes, on: isa) == expected, "\(isa): round \(round)")
            #expect(Self.outcome(bytes, cuts: cuts, on: isa) == expected, "\(isa): round \(round), cut at \(cuts)")
            let key = UInt32(truncatingIfNeeded: random.next())
            let phase = Int(random.next() % 4)
            #expect(Self.unmaskedOutcome(bytes, key: key, phase: phase, cuts: cuts, on: isa) == expected, "\(isa): round \(round), unmasking")
        }
    }
}
