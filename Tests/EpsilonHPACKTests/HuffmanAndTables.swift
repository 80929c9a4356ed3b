import EpsilonHPACK
import Testing

/// Deterministic pseudo-random numbers (SplitMix64) so failures can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct RFC7541_5_2_Huffman {
    /// Every octet value, alone and in runs, survives Huffman encode then decode.
    @Test func everyOctetRoundTrips() throws {
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(huffman: .always, policy: .never))
        var decoder = HPACKHeaderBlockDecoder(configuration: .init(forbiddenCharacters: .flag))
        var generator = SplitMix64(state: 7)
        var values: [[UInt8]] = (0...255).map { [UInt8($0)] }
        values.append(Array(0...255))
        for _ in 0..<200 {
            values.append((0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        for value in values {
            var block: [UInt8] = []
            encoder.beginBlock(into: &block)
            value.withUnsafeBytes { bytes in
                Array("x".utf8).withUnsafeBytes { name in
                    encoder.append(name: name, value: bytes, indexing: .withoutIndexing, into: &block)
                }
            }
            var decoded: [UInt8] = []
            try decoder.receive(block) { decoded = Array($0.value) }
            #expect(decoded == value)
        }
    }

    /// `.whenShorter` picks Huffman only when it saves octets.
    @Test func huffmanOnlyWhenShorter() throws {
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(policy: .never))
        var block: [UInt8] = []
        encoder.encode([HPACKHeaderField("x", "www.example.com")], into: &block)
        #expect(block[3] == 0x8C) // Huffman, 12 octets instead of 15 (RFC 7541 C.4.1)
        block = []
        encoder.encode([HPACKHeaderField("x", "{}|~^")], into: &block)
        #expect(block[3] == 0x05) // each of these codes is longer than 8 bits: plain
    }
}

/// The dynamic table as a ring of bytes against a plain list model, through many evictions,
/// wrap-arounds and size changes: encoder and decoder tables must both equal the model.
@Suite struct RFC7541_4_DynamicTable {
    @Test(arguments: [1 as UInt64, 2, 3, 4])
    func ringMatchesListModel(seed: UInt64) throws {
        var generator = SplitMix64(state: seed)
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(maxTableSize: 4096, policy: .always))
        var decoder = HPACKHeaderBlockDecoder()
        var model: [(name: String, value: String)] = []
        var modelMax = 4096
        func modelInsert(_ name: String, _ value: String) {
            let size = name.utf8.count + value.utf8.count + 32
            if size > modelMax { model.removeAll(); return }
            model.insert((name, value), at: 0)
            while model.map({ $0.name.utf8.count + $0.value.utf8.count + 32 }).reduce(0, +) > modelMax { model.removeLast() }
        }
        for round in 0..<400 {
            if round % 37 == 36 {
                let newSize = [0, 64, 300, 1000, 4096, 2048][Int.random(in: 0..<6, using: &generator)]
                encoder.setPeerMaxTableSize(newSize)
                decoder.setMaxTableSize(newSize)
                modelMax = newSize
                model = Array(model.prefix { _ in true })
                while model.map({ $0.name.utf8.count + $0.value.utf8.count + 32 }).reduce(0, +) > modelMax { model.removeLast() }
            }
            var fields: [HPACKHeaderField] = []
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let name = "n" + String(Int.random(in: 0..<12, using: &generator))
                let value = String(repeating: "v", count: Int.random(in: 0...(round % 5 == 0 ? 900 : 90), using: &generator))
                fields.append(HPACKHeaderField(name, value))
            }
            var block: [UInt8] = []
            encoder.encode(fields, into: &block)
            let decoded = try decoder.decodeFields(block)
            #expect(decoded.map { "\($0.name)=\($0.value)" } == fields.map { "\($0.name)=\($0.value)" })
            for field in fields where !model.contains(where: { $0.name == field.name && $0.value == field.value }) {
                modelInsert(field.name, field.value)
            }
            let expected = model.map { "\($0.name)=\($0.value)" }
            #expect(encoder.dynamicTableEntries.map { "\($0.name)=\($0.value)" } == expected, "round \(round)")
            #expect(decoder.dynamicTableEntries.map { "\($0.name)=\($0.value)" } == expected, "round \(round)")
            #expect(decoder.dynamicTableSize == encoder.dynamicTableSize)
        }
    }

    /// RFC 7541 §4.4: a literal whose name refers to the entry its insertion evicts.
    @Test func nameOfEvictedEntryIsKept() throws {
        var decoder = HPACKHeaderBlockDecoder(configuration: .init(maxTableSize: 60))
        // Insert "name-x: 1" (39 octets), then a literal with incremental indexing whose name
        // is index 62 (that entry) and whose value makes the new entry evict it.
        let block: [UInt8] = [0x40, 0x06] + Array("name-x".utf8) + [0x01, 0x31]
            + [0x7E, 0x0A] + Array("0123456789".utf8)
        let fields = try decoder.decodeFields(block)
        #expect(fields.map(\.description) == ["name-x: 1", "name-x: 0123456789"])
        #expect(decoder.dynamicTableEntries.map(\.description) == ["name-x: 0123456789"])
    }
}
