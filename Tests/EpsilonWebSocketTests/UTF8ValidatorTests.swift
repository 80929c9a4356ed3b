import EpsilonWebSocket
import Testing

@Suite struct UTF8ValidatorTests {
    static func firstFailure(_ bytes: [UInt8]) -> Int? {
        var v = WebSocketUTF8Validator()
        if let bad = bytes.withUnsafeBytes({ v.validate($0) }) { return bad }
        return v.isComplete ? nil : bytes.count
    }

    @Test(arguments: ["", "Hello", "κόσμε", "aé€😀b", "\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}", String(repeating: "ascii only text ", count: 20)])
    func acceptsWellFormedText(_ text: String) {
        #expect(Self.firstFailure(Array(text.utf8)) == nil)
    }

    /// Each case: bytes and the index of the first byte that can no longer be valid.
    @Test(arguments: [
        ([0x80], 0), ([0xBF], 0), ([0xC0, 0x80], 0), ([0xC1, 0xBF], 0), ([0xF5, 0x80, 0x80, 0x80], 0), ([0xFF], 0), ([0xFE], 0),
        ([0xE0, 0x80, 0x80], 1), ([0xE0, 0x9F, 0xBF], 1),           // overlong 3-byte
        ([0xED, 0xA0, 0x80], 1), ([0xED, 0xBF, 0xBF], 1),           // surrogates
        ([0xF0, 0x80, 0x80, 0x80], 1), ([0xF0, 0x8F, 0xBF, 0xBF], 1), // overlong 4-byte
        ([0xF4, 0x90, 0x80, 0x80], 1),                               // above U+10FFFF
        ([0xC2, 0x41], 1), ([0xE1, 0x80, 0x41], 2), ([0xF1, 0x80, 0x80, 0x41], 3),
        ([0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0xC0], 8),
        ([0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64], 12),
        ([0xC2], 1), ([0xE2, 0x82], 2), ([0xF0, 0x9F, 0x98], 3),      // truncated: fails at the end
    ] as [([UInt8], Int)])
    func rejectsAtTheFirstImpossibleByte(_ bytes: [UInt8], _ index: Int) {
        #expect(Self.firstFailure(bytes) == index)
    }

    @Test func rejectsAnInvalidByteAtEveryPosition() {
        let text = Array("ASCII prefix long enough for words, κόσμε €uro 😀 and tail".utf8)
        for position in 0...text.count {
            // 0xFF can never occur in UTF-8, so it fails exactly where it is put.
            var bytes = text
            bytes.insert(0xFF, at: position)
            #expect(Self.firstFailure(bytes) == position)
        }
    }

    @Test func splitsAnywhereGiveTheSameAnswer() {
        let text = Array("aé€😀b".utf8)
        for cut1 in 0...text.count {
            for cut2 in cut1...text.count {
                var v = WebSocketUTF8Validator()
                for piece in [text[..<cut1], text[cut1..<cut2], text[cut2...]] {
                    #expect(Array(piece).withUnsafeBytes { v.validate($0) } == nil)
                }
                #expect(v.isComplete == true)
            }
        }
    }

    @Test func agreesWithTheStandardLibraryOnRandomBytes() {
        var generator = SystemRandomNumberGenerator()
        let pool: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEE, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...24, using: &generator)
            let bytes = (0..<length).map { _ in pool.randomElement(using: &generator)! }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            let whole = Self.firstFailure(bytes)
            #expect((whole == nil) == expected, "\(bytes)")
            // Byte at a time (no multi-byte fast path) fails at the same index.
            var v = WebSocketUTF8Validator()
            var single: Int? = nil
            for (index, byte) in bytes.enumerated() where single == nil {
                if [byte].withUnsafeBytes({ v.validate($0) }) != nil { single = index }
            }
            if single == nil && !v.isComplete { single = bytes.count }
            #expect(whole == single, "\(bytes)")
        }
    }
}
