import EpsilonHPACK
import Testing

/// Malformed and hostile blocks: each is a typed error at the right offset, never a trap.
@Suite struct DecoderTraps {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var block: [UInt8]
        var rule: HPACKError.Rule
        var offset: Int
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "index 0", block: [0x80], rule: .indexZero, offset: 0),
        Case(name: "index past an empty dynamic table", block: [0x82, 0xBE], rule: .indexOutOfRange, offset: 1),
        Case(name: "literal name index past the tables", block: [0x7F, 0x00, 0x01, 0x61], rule: .indexOutOfRange, offset: 0),
        Case(name: "integer with 6 continuation bytes", block: [0xFF, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], rule: .integerTooLong, offset: 0),
        Case(name: "integer above 32 bits", block: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], rule: .integerOverflow, offset: 0),
        Case(name: "integer cut short", block: [0x82, 0xFF, 0x80], rule: .truncatedInteger, offset: 1),
        Case(name: "string longer than the block", block: [0x00, 0x05, 0x61], rule: .truncatedString, offset: 1),
        Case(name: "string length far past the block", block: [0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0x0F], rule: .truncatedString, offset: 1),
        Case(name: "literal without its value", block: [0x00, 0x01, 0x61], rule: .truncatedString, offset: 3),
        Case(name: "three size updates", block: [0x20, 0x20, 0x20, 0x82], rule: .tooManyTableSizeUpdates, offset: 2),
        Case(name: "size update after a field", block: [0x82, 0x20], rule: .tableSizeUpdateNotAtStart, offset: 1),
        Case(name: "size update above the SETTINGS limit", block: [0x3F, 0xE2, 0x1F], rule: .tableSizeUpdateAboveLimit, offset: 0),
        Case(name: "CR in a value", block: [0x00, 0x01, 0x61, 0x03, 0x62, 0x0D, 0x63], rule: .forbiddenCharacterInValue, offset: 0),
        Case(name: "LF in a value", block: [0x10, 0x01, 0x61, 0x03, 0x62, 0x0A, 0x63], rule: .forbiddenCharacterInValue, offset: 0),
        Case(name: "NUL in a value", block: [0x40, 0x01, 0x61, 0x01, 0x00], rule: .forbiddenCharacterInValue, offset: 0),
        Case(name: "LF after 8 clean bytes", block: [0x00, 0x01, 0x61, 0x09] + Array("abcdefgh\n".utf8), rule: .forbiddenCharacterInValue, offset: 0),
        Case(name: "Huffman EOS", block: [0x00, 0x01, 0x61, 0x84, 0xFF, 0xFF, 0xFF, 0xFF], rule: .huffmanEOS, offset: 3),
        Case(name: "Huffman padding of 11 bits", block: [0x00, 0x01, 0x61, 0x82, 0x1F, 0xFF], rule: .huffmanPaddingTooLong, offset: 3),
        Case(name: "Huffman padding of zeros", block: [0x00, 0x01, 0x61, 0x81, 0x18], rule: .huffmanPaddingNotOnes, offset: 3),
        Case(name: "Huffman name with zero padding", block: [0x00, 0x81, 0x00, 0x01, 0x61], rule: .huffmanPaddingNotOnes, offset: 1),
    ]

    @Test(arguments: cases)
    func rejectsWithRuleAndOffset(_ trap: Case) {
        var decoder = HPACKHeaderBlockDecoder()
        #expect(throws: HPACKError(trap.rule, offset: trap.offset)) {
            try decoder.receive(trap.block) { _ in }
        }
        #expect(!decoder.isUsable)
        #expect(decoder.failure == HPACKError(trap.rule, offset: trap.offset))
        // RFC 7541 §2.2: after a decoding error the context is gone.
        #expect(throws: HPACKError(.decoderUnusable, offset: 0)) {
            try decoder.receive([0x82]) { _ in }
        }
    }

    @Test func twoSizeUpdatesAtTheStartAreAccepted() throws {
        var decoder = HPACKHeaderBlockDecoder()
        let fields = try decoder.decodeFields([0x20, 0x3F, 0xE1, 0x1F, 0x82])
        #expect(fields == [HPACKHeaderField(":method", "GET")])
        #expect(decoder.dynamicTableMaxSize == 4096)
    }

    @Test func loweredLimitRequiresASizeUpdate() throws {
        var decoder = HPACKHeaderBlockDecoder()
        decoder.setMaxTableSize(100)
        #expect(throws: HPACKError(.missingTableSizeUpdate, offset: 0)) { try decoder.receive([0x82]) { _ in } }

        var empty = HPACKHeaderBlockDecoder()
        empty.setMaxTableSize(100)
        #expect(throws: HPACKError(.missingTableSizeUpdate, offset: 0)) { try empty.receive([UInt8]()) { _ in } }

        var signalled = HPACKHeaderBlockDecoder()
        signalled.setMaxTableSize(100)
        #expect(try signalled.decodeFields([0x3F, 0x45, 0x82]).count == 1)
        #expect(signalled.dynamicTableMaxSize == 100)
        // Once signalled, later blocks need none.
        #expect(try signalled.decodeFields([0x82]).count == 1)
    }

    @Test func lowerThenHigherLimitRequiresTheSmallerUpdate() throws {
        var decoder = HPACKHeaderBlockDecoder()
        decoder.setMaxTableSize(100)
        decoder.setMaxTableSize(4096)
        #expect(throws: HPACKError(.missingTableSizeUpdate, offset: 3)) { try decoder.receive([0x3F, 0xE1, 0x1F, 0x82]) { _ in } }

        var signalled = HPACKHeaderBlockDecoder()
        signalled.setMaxTableSize(100)
        signalled.setMaxTableSize(4096)
        #expect(try signalled.decodeFields([0x3F, 0x45, 0x3F, 0xE1, 0x1F, 0x82]).count == 1)
        #expect(signalled.dynamicTableMaxSize == 4096)
    }

    @Test func raisedLimitNeedsNoUpdateButAllowsOne() throws {
        var decoder = HPACKHeaderBlockDecoder()
        decoder.setMaxTableSize(8192)
        #expect(try decoder.decodeFields([0x82]).count == 1)
        #expect(try decoder.decodeFields([0x3F, 0xE1, 0x3F, 0x82]).count == 1)
        #expect(decoder.dynamicTableMaxSize == 8192)
    }

    @Test func sizeUpdateEvictsAndZeroEmpties() throws {
        var decoder = HPACKHeaderBlockDecoder()
        _ = try decoder.decodeFields([0x40, 0x01, 0x61, 0x01, 0x62, 0x40, 0x01, 0x63, 0x01, 0x64])
        #expect(decoder.dynamicTableCount == 2 && decoder.dynamicTableSize == 68)
        _ = try decoder.decodeFields([0x20])
        #expect(decoder.dynamicTableCount == 0 && decoder.dynamicTableSize == 0)
        #expect(throws: HPACKError(.indexOutOfRange, offset: 3)) { try decoder.receive([0x3F, 0xE1, 0x1F, 0xBE]) { _ in } }
    }

    /// RFC 9113 §6.5.2: each field counts name + value + 32 octets.
    @Test func headerListSizeCountsTheOverhead() throws {
        // ":method: GET" is 7 + 3 + 32 = 42 octets.
        var exact = HPACKHeaderBlockDecoder(configuration: .init(maxHeaderListSize: 42))
        #expect(try exact.decodeFields([0x82]).count == 1)
        #expect(throws: HPACKError(.headerListTooLarge, offset: 1)) { try exact.receive([0x82, 0x82]) { _ in } }

        var below = HPACKHeaderBlockDecoder(configuration: .init(maxHeaderListSize: 41))
        #expect(throws: HPACKError(.headerListTooLarge, offset: 0)) { try below.receive([0x82]) { _ in } }

        // Literal "a: b" is 34: fits 34, not 33 (checked before the value is decoded).
        var literal = HPACKHeaderBlockDecoder(configuration: .init(maxHeaderListSize: 34))
        #expect(try literal.decodeFields([0x00, 0x01, 0x61, 0x01, 0x62]).count == 1)
        var tight = HPACKHeaderBlockDecoder(configuration: .init(maxHeaderListSize: 33))
        #expect(throws: HPACKError(.headerListTooLarge, offset: 3)) { try tight.receive([0x00, 0x01, 0x61, 0x01, 0x62]) { _ in } }
    }

    @Test func stringLengthIsLimited() {
        var plain = HPACKHeaderBlockDecoder(configuration: .init(maxStringLength: 4))
        #expect(throws: HPACKError(.stringTooLong, offset: 1)) {
            try plain.receive([0x00, 0x05] + Array("hello".utf8) + [0x01, 0x61]) { _ in }
        }
        // "aaaaaaaa" Huffman-coded is 5 octets but decodes to 8.
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(huffman: .always))
        var block: [UInt8] = []
        encoder.encode([HPACKHeaderField("x", "aaaaaaaa", indexing: .withoutIndexing)], into: &block)
        var huffman = HPACKHeaderBlockDecoder(configuration: .init(maxStringLength: 7))
        #expect(throws: HPACKError(.stringTooLong, offset: 3)) { try huffman.receive(block) { _ in } }
    }

    @Test func forbiddenCharactersCanBeFlaggedInstead() throws {
        var decoder = HPACKHeaderBlockDecoder(configuration: .init(forbiddenCharacters: .flag))
        var flags: [Bool] = []
        try decoder.receive([0x40, 0x01, 0x61, 0x03, 0x62, 0x0D, 0x63, 0x82, 0xBE]) { flags.append($0.hasForbiddenCharacter) }
        #expect(flags == [true, false, true])
    }

    @Test func huffmanValueWithCRLFIsRejected() {
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(huffman: .always))
        var block: [UInt8] = []
        encoder.encode([HPACKHeaderField("x-smuggle", "a\r\nhost: evil", indexing: .withoutIndexing)], into: &block)
        var decoder = HPACKHeaderBlockDecoder()
        #expect(throws: HPACKError(.forbiddenCharacterInValue, offset: 0)) { try decoder.receive(block) { _ in } }
    }

    /// No prefix of a valid block, and no single-byte corruption of one, may trap.
    @Test func truncationsAndBitFlipsNeverTrap() throws {
        var encoder = HPACKHeaderBlockEncoder()
        var block: [UInt8] = []
        encoder.encode([
            HPACKHeaderField(":method", "GET"), HPACKHeaderField(":path", "/a/long/path?with=query"),
            HPACKHeaderField("user-agent", "Mozilla/5.0 (X11; Linux x86_64)"), HPACKHeaderField("cookie", "short"),
            HPACKHeaderField("x-custom", String(repeating: "v", count: 300)),
        ], into: &block)
        var decodedAny = 0
        for length in 0...block.count {
            var decoder = HPACKHeaderBlockDecoder()
            if (try? decoder.receive(Array(block[..<length])) { _ in decodedAny += 1 }) != nil {
                #expect(decoder.isUsable)
            }
        }
        for position in block.indices {
            for bit in 0..<8 {
                var corrupt = block
                corrupt[position] ^= 1 << bit
                var decoder = HPACKHeaderBlockDecoder()
                _ = try? decoder.receive(corrupt) { _ in }
            }
        }
        #expect(decodedAny > 0)
    }

    /// Random bytes, and random representations built to reach deep paths, never trap; every
    /// failure is a typed error that leaves the decoder failed.
    @Test(arguments: [11 as UInt64, 12, 13])
    func randomBlocksNeverTrap(seed: UInt64) {
        var generator = SplitMix64(state: seed)
        let pieces: [[UInt8]] = [
            [0x82], [0xBE], [0xFF, 0x00], [0x40, 0x01, 0x61, 0x01, 0x62], [0x7E, 0x01, 0x63],
            [0x20], [0x3F, 0xE1, 0x1F], [0x10, 0x81, 0x1F, 0x81, 0xFF], [0x00, 0x83, 0xFF, 0xFF, 0xFF],
            [0x0F, 0x2F, 0x01, 0x0D], [0xC0], [0x5F, 0x1D, 0x85, 0xF1, 0xE3, 0xC2, 0xE5, 0xF2],
        ]
        var failures = 0
        for round in 0..<3_000 {
            var block: [UInt8] = []
            if round % 2 == 0 {
                block = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    block += pieces[Int.random(in: 0..<pieces.count, using: &generator)]
                }
            }
            var decoder = HPACKHeaderBlockDecoder(configuration: .init(
                maxTableSize: [0, 64, 4096][round % 3], maxHeaderListSize: [40, 500, 65_536][round % 3]))
            do {
                try decoder.receive(block) { field in
                    _ = field.name.count &+ field.value.count
                }
                #expect(decoder.isUsable)
            } catch {
                failures += 1
                #expect(!decoder.isUsable && decoder.failure == error)
            }
        }
        #expect(failures > 100)
    }
}

