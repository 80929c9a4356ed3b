import EpsilonTooling
import Foundation
import Testing

@Suite struct HPACKInspectorTests {
    // RFC 7541 C.3.1, C.3.2 and C.3.3: three requests sharing one dynamic table.
    static let c31 = "828684410f7777772e6578616d706c652e636f6d"
    static let c32 = "828684be58086e6f2d6361636865"
    static let c33 = "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"

    @Test func hexArgumentPrintsTheFields() throws {
        let text = try HPACKInspector.describe(argument: Self.c31)
        #expect(text == """
            0: :method: GET  [indexed]
            1: :scheme: http  [indexed]
            2: :path: /  [indexed]
            3: :authority: www.example.com  [literal, incremental indexing]
            dynamic table: 1 entries, 57/4096 octets
            """)
    }

    @Test func fileOfHexLinesSharesOneTable() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hpack-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        try [Self.c31, Self.c32, Self.c33].joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let text = try HPACKInspector.describe(argument: url.path)
        #expect(text.contains("# block 2 (29 bytes)"))
        #expect(text.contains("3: :authority: www.example.com  [indexed]"))
        #expect(text.contains("4: custom-key: custom-value  [literal, incremental indexing]"))
        #expect(text.hasSuffix("dynamic table: 3 entries, 164/4096 octets"))
    }

    @Test func rawFileIsOneBlock() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hpack-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: url) }
        // RFC 7541 C.4.1 (Huffman) as raw bytes.
        let bytes: [UInt8] = [0x82, 0x86, 0x84, 0x41, 0x8C, 0xF1, 0xE3, 0xC2, 0xE5, 0xF2, 0x3A, 0x6B, 0xA0, 0xAB, 0x90, 0xF4, 0xFF]
        try Data(bytes).write(to: url)
        let text = try HPACKInspector.describe(argument: url.path)
        #expect(text.contains("3: :authority: www.example.com  [literal, incremental indexing]"))
    }

    @Test func unprintableBytesAreEscapedAndFlagged() throws {
        let text = try HPACKInspector.describe([0x00, 0x01, 0x61, 0x03, 0x62, 0x0D, 0x5C])
        #expect(text.hasPrefix("0: a: b\\x0D\\x5C  [literal, without indexing, CR/LF/NUL in value]"))
    }

    @Test func brokenBlockKeepsWhatDecoded() {
        do {
            _ = try HPACKInspector.describe([0x82, 0x80])
            Issue.record("a block with index 0 must fail")
        } catch {
            #expect(error.output == "0: :method: GET  [indexed]\nerror: indexZero at offset 1")
            #expect(error.underlying.rule == .indexZero)
        }
    }

    @Test func neitherFileNorHexIsAnInputError() {
        #expect(throws: HPACKInspector.InputError.self) { try HPACKInspector.blocks(fromArgument: "not hex") }
        #expect(throws: HPACKInspector.InputError.self) { try HPACKInspector.blocks(fromArgument: "828") }
    }
}
