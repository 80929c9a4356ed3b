import EpsilonHPACK
import Foundation
import Testing

/// RFC 7541 Appendix C, from the twitter/hpack resources (C.2–C.6 and Twitter's extra cases).
@Suite struct RFC7541_AppendixC {
    static let files = [
        "testSpecExampleC2_1", "testSpecExampleC2_2", "testSpecExampleC2_3", "testSpecExampleC2_4",
        "testSpecExampleC3", "testSpecExampleC4", "testSpecExampleC5", "testSpecExampleC6",
        "testDuplicateHeaders", "testEmpty", "testEviction", "testMaxHeaderTableSize",
        "testStaticTableEntries",
    ]

    struct Block {
        var headers: [(name: String, value: String)]
        var encoded: [UInt8]
        var dynamicTable: [(name: String, value: String)]
        var tableSize: Int
        var maxTableSize: Int?
    }

    struct Example {
        var maxTableSize: Int
        var huffman: Bool
        var indexing: HPACKFieldIndexing
        var blocks: [Block]
    }

    static func load(_ name: String) throws -> Example {
        let root = try Vectors.json(Vectors.folder("rfc7541-appendix-c-twitter-hpack").appendingPathComponent(name + ".json"))
        let blocks = (root["header_blocks"] as? [[String: Any]] ?? []).map { item in
            Block(
                headers: Vectors.headers(item["headers"]),
                encoded: Vectors.hex((item["encoded"] as? [String] ?? []).joined()),
                dynamicTable: Vectors.headers(item["dynamic_table"]),
                tableSize: item["table_size"] as? Int ?? -1,
                maxTableSize: item["max_header_table_size"] as? Int)
        }
        var indexing = HPACKFieldIndexing.incremental
        if root["use_indexing"] as? Bool == false { indexing = .withoutIndexing }
        if root["sensitive_headers"] as? Bool == true { indexing = .neverIndexed }
        return Example(
            maxTableSize: root["max_header_table_size"] as? Int ?? 4096,
            huffman: root["force_huffman_on"] as? Bool ?? false,
            indexing: indexing,
            blocks: blocks)
    }

    @Test func rfc7541C1IntegersMatch() throws {
        let root = try Vectors.json(Vectors.folder("rfc7541-c1-integers.json"))
        let cases = try #require(root["cases"] as? [[String: Any]])
        #expect(cases.count == 3)
        for item in cases {
            let value = try #require(item["value"] as? Int)
            let prefix = try #require(item["prefix_bits"] as? Int)
            let expected = Vectors.hex(try #require(item["hex"] as? String))
            var encoded: [UInt8] = []
            HPACKPrimitive.appendInteger(value, prefixBits: prefix, to: &encoded)
            #expect(encoded == expected, "\(item["section"] ?? "")")
            let decoded = try HPACKPrimitive.readInteger(expected, prefixBits: prefix)
            #expect(decoded.value == value && decoded.length == expected.count)
        }
    }

    @Test(arguments: files)
    func decoderMatchesHeadersAndTable(_ name: String) throws {
        let example = try Self.load(name)
        #expect(!example.blocks.isEmpty)
        var decoder = HPACKHeaderBlockDecoder(configuration: .init(maxTableSize: example.maxTableSize))
        for block in example.blocks {
            if let size = block.maxTableSize { decoder.setMaxTableSize(size) }
            var fields: [FieldBytes] = []
            try decoder.receive(block.encoded) { fields.append(FieldBytes(name: Array($0.name), value: Array($0.value))) }
            #expect(fields == block.headers.map { FieldBytes($0.name, $0.value) })
            #expect(decoder.dynamicTableEntries.map { FieldBytes($0.name, $0.value) }
                == block.dynamicTable.map { FieldBytes($0.name, $0.value) })
            #expect(decoder.dynamicTableSize == block.tableSize)
        }
    }

    @Test(arguments: files)
    func encoderMatchesByteForByte(_ name: String) throws {
        let example = try Self.load(name)
        var encoder = HPACKHeaderBlockEncoder(
            configuration: .init(maxTableSize: example.maxTableSize, huffman: example.huffman ? .always : .never, policy: .always),
            peerMaxTableSize: example.maxTableSize)
        for block in example.blocks {
            if let size = block.maxTableSize { encoder.setPeerMaxTableSize(size) }
            var output: [UInt8] = []
            encoder.encode(block.headers.map { HPACKHeaderField($0.name, $0.value, indexing: example.indexing) }, into: &output)
            #expect(Vectors.hexString(output) == Vectors.hexString(block.encoded))
            #expect(encoder.dynamicTableEntries.map { FieldBytes($0.name, $0.value) }
                == block.dynamicTable.map { FieldBytes($0.name, $0.value) })
            #expect(encoder.dynamicTableSize == block.tableSize)
        }
    }

    /// C.4 and C.6 are C.3 and C.5 with Huffman: same headers, never longer blocks.
    @Test func huffmanAndPlainExamplesCarryTheSameHeaders() throws {
        for (plain, huffman) in [("testSpecExampleC3", "testSpecExampleC4"), ("testSpecExampleC5", "testSpecExampleC6")] {
            let left = try Self.load(plain)
            let right = try Self.load(huffman)
            #expect(left.blocks.map { $0.headers.map { FieldBytes($0.name, $0.value) } }
                == right.blocks.map { $0.headers.map { FieldBytes($0.name, $0.value) } })
            #expect(zip(left.blocks, right.blocks).allSatisfy { $0.encoded.count >= $1.encoded.count })
            #expect(left.blocks.map(\.encoded.count).reduce(0, +) > right.blocks.map(\.encoded.count).reduce(0, +))
        }
    }
}
