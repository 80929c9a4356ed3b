import EpsilonHPACK
import Testing

@Suite struct DecoderAPI {
    struct Collector: HPACKHeaderFieldHandler {
        var lines: [String] = []
        var indexed = 0
        mutating func handle(_ field: HPACKHeaderFieldView) {
            lines.append("\(field.nameString): \(field.valueString)")
            if field.representation == .indexed { indexed += 1 }
        }
    }

    // RFC 7541 C.4.1: a Huffman literal and three indexed fields.
    static let c41: [UInt8] = [0x82, 0x86, 0x84, 0x41, 0x8C, 0xF1, 0xE3, 0xC2, 0xE5, 0xF2, 0x3A, 0x6B, 0xA0, 0xAB, 0x90, 0xF4, 0xFF]

    @Test func handlerReceivesEveryFieldInOrder() throws {
        var decoder = HPACKHeaderBlockDecoder()
        var collector = Collector()
        _ = try Self.c41.withUnsafeBytes { bytes in try decoder.receive(bytes, handler: &collector) }
        #expect(collector.lines == [":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com"])
        #expect(collector.indexed == 3)
    }

    @Test func spanInputDecodesTheSame() throws {
        var decoder = HPACKHeaderBlockDecoder()
        var names: [String] = []
        try decoder.receive(Self.c41.span) { names.append($0.nameString) }
        #expect(names == [":method", ":scheme", ":path", ":authority"])
        #expect(decoder.dynamicTableEntries == [HPACKHeaderField(":authority", "www.example.com")])
    }

    @Test func viewsCompareWithoutCopying() throws {
        var decoder = HPACKHeaderBlockDecoder()
        var matches = 0
        try decoder.receive(Self.c41) { field in
            if field.nameEquals(":authority") && field.valueEquals("www.example.com") { matches += 1 }
            if field.nameEquals(":method") && !field.valueEquals("POST") { matches += 1 }
        }
        #expect(matches == 2)
    }
}
