import EpsilonHPACK
import Testing

/// The dynamic tables grow as they fill instead of being laid out at their limit, and stop
/// growing at what the limit needs.
@Suite struct TableMemory {
    @Test func tablesStartEmptyAndStaySmallForAFewFields() throws {
        var encoder = HPACKHeaderBlockEncoder()
        var decoder = HPACKHeaderBlockDecoder()
        #expect(encoder.heapBytes == 0)
        #expect(decoder.heapBytes == 0)
        var block: [UInt8] = []
        encoder.encode([HPACKHeaderField(":method", "GET"), HPACKHeaderField("user-agent", "curl/8.14.1"),
                        HPACKHeaderField("accept", "*/*")], into: &block)
        var fields = 0
        try decoder.receive(block) { _ in fields += 1 }
        #expect(fields == 3)
        #expect(encoder.dynamicTableCount == 2 && decoder.dynamicTableCount == 2)
        // A 4096-octet table laid out up front held ~21 KB (encoder) and ~11 KB (decoder).
        #expect(encoder.heapBytes < 1024, "encoder holds \(encoder.heapBytes)")
        #expect(decoder.heapBytes < 1024, "decoder holds \(decoder.heapBytes)")
    }

    @Test func tablesGrowToTheLimitAndNoFurther() throws {
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(policy: .always))
        var decoder = HPACKHeaderBlockDecoder()
        var block: [UInt8] = []
        var mismatches = 0
        for index in 0..<2_000 {
            block.removeAll(keepingCapacity: true)
            let field = HPACKHeaderField("x-field-\(index % 97)", String(repeating: "v", count: index % 61))
            encoder.encode([field], into: &block)
            let decoded = try decoder.decodeFields(block)
            if decoded.map({ [$0.name, $0.value] }) != [[field.name, field.value]] { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(encoder.dynamicTableEntries == decoder.dynamicTableEntries)
        #expect(decoder.dynamicTableSize > 3_000)
        // Bytes: at most twice the limit; records: 5 words per 32 octets of limit, doubled.
        let bound = 2 * 4096 + 2 * (4096 / 32 + 1) * 20
        #expect(decoder.heapBytes <= bound + 2 * 4096, "decoder holds \(decoder.heapBytes)")
        #expect(encoder.heapBytes <= bound + 8 * 4 * (4096 / 32 + 1) * 2, "encoder holds \(encoder.heapBytes)")
    }
}
