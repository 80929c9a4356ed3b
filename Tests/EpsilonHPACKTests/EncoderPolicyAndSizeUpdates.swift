import EpsilonHPACK
import Testing

@Suite struct RFC7541_4_2_EncoderSizeUpdates {
    @Test func loweredThenRaisedLimitSignalsSmallestThenFinal() throws {
        var encoder = HPACKHeaderBlockEncoder()
        var decoder = HPACKHeaderBlockDecoder()
        var block: [UInt8] = []
        encoder.encode([HPACKHeaderField("x-a", "1")], into: &block)
        _ = try decoder.decodeFields(block)

        encoder.setPeerMaxTableSize(100)
        encoder.setPeerMaxTableSize(4096)
        decoder.setMaxTableSize(100)
        decoder.setMaxTableSize(4096)
        block = []
        encoder.encode([HPACKHeaderField(":method", "GET")], into: &block)
        #expect(Array(block.prefix(5)) == [0x3F, 0x45, 0x3F, 0xE1, 0x1F]) // 100, then 4096
        #expect(try decoder.decodeFields(block) == [HPACKHeaderField(":method", "GET")])
        // The update happens once: the next block carries none.
        block = []
        encoder.encode([HPACKHeaderField(":method", "GET")], into: &block)
        #expect(block == [0x82])
    }

    @Test func loweredLimitEvictsAndSignalsOnce() throws {
        var encoder = HPACKHeaderBlockEncoder()
        var block: [UInt8] = []
        encoder.encode([HPACKHeaderField("x-long", String(repeating: "a", count: 100))], into: &block)
        #expect(encoder.dynamicTableCount == 1)
        encoder.setPeerMaxTableSize(0)
        #expect(encoder.dynamicTableCount == 0)
        block = []
        encoder.encode([HPACKHeaderField("x-long", "b")], into: &block)
        #expect(block.first == 0x20)
        #expect(encoder.dynamicTableCount == 0)
    }

    @Test func smallerOwnTableIsAnnouncedInTheFirstBlock() throws {
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(maxTableSize: 256))
        var block: [UInt8] = []
        encoder.encode([HPACKHeaderField(":method", "GET")], into: &block)
        #expect(block == [0x3F, 0xE1, 0x01, 0x82]) // size update to 256, then index 2
        var decoder = HPACKHeaderBlockDecoder()
        #expect(try decoder.decodeFields(block).count == 1)
        #expect(decoder.dynamicTableMaxSize == 256)
    }
}

@Suite struct EncoderIndexingPolicy {
    static func representation(of field: HPACKHeaderField, tableSize: Int = 4096) throws -> HPACKFieldRepresentation {
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(maxTableSize: tableSize), peerMaxTableSize: tableSize)
        var block: [UInt8] = []
        encoder.encode([field], into: &block)
        var decoder = HPACKHeaderBlockDecoder(configuration: .init(maxTableSize: tableSize))
        var seen: HPACKFieldRepresentation?
        try decoder.receive(block) { seen = $0.representation }
        return try #require(seen)
    }

    @Test func defaultPolicyDecisions() throws {
        #expect(try Self.representation(of: HPACKHeaderField("authorization", "Bearer abc")) == .neverIndexed)
        #expect(try Self.representation(of: HPACKHeaderField("proxy-authorization", "Basic x")) == .neverIndexed)
        #expect(try Self.representation(of: HPACKHeaderField("set-cookie", "id=1; Secure")) == .neverIndexed)
        #expect(try Self.representation(of: HPACKHeaderField("cookie", "id=short")) == .neverIndexed)
        #expect(try Self.representation(of: HPACKHeaderField("cookie", "session=0123456789abcdef0123")) == .incrementalIndexing)
        #expect(try Self.representation(of: HPACKHeaderField(":path", "/x")) == .withoutIndexing)
        #expect(try Self.representation(of: HPACKHeaderField("x-big", String(repeating: "z", count: 100)), tableSize: 128) == .withoutIndexing)
        #expect(try Self.representation(of: HPACKHeaderField("user-agent", "curl/8")) == .incrementalIndexing)
        #expect(try Self.representation(of: HPACKHeaderField(":method", "GET")) == .indexed)
    }

    @Test func explicitIndexingOverridesThePolicy() throws {
        #expect(try Self.representation(of: HPACKHeaderField("user-agent", "curl/8", indexing: .neverIndexed)) == .neverIndexed)
        #expect(try Self.representation(of: HPACKHeaderField("authorization", "x", indexing: .incremental)) == .incrementalIndexing)
        // A sensitive field that is in the static table is still sent as a literal.
        #expect(try Self.representation(of: HPACKHeaderField(":method", "GET", indexing: .neverIndexed)) == .neverIndexed)
    }

    @Test func neverIndexedFieldUsesTheStaticName() {
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(huffman: .never))
        var block: [UInt8] = []
        encoder.encode([HPACKHeaderField("authorization", "s")], into: &block)
        #expect(block == [0x1F, 0x08, 0x01, 0x73]) // never indexed, name index 23, value "s"
    }

    @Test func customPolicyIsAsked() throws {
        let policy = HPACKIndexingPolicy { field, _ in field.nameEquals("x-secret") ? .neverIndexed : .withoutIndexing }
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(policy: policy))
        var block: [UInt8] = []
        encoder.encode([HPACKHeaderField("x-secret", "1"), HPACKHeaderField("x-public", "2")], into: &block)
        var decoder = HPACKHeaderBlockDecoder()
        var seen: [HPACKFieldRepresentation] = []
        try decoder.receive(block) { seen.append($0.representation) }
        #expect(seen == [.neverIndexed, .withoutIndexing])
        #expect(encoder.dynamicTableCount == 0)
    }
}
