import EpsilonTooling
import Foundation
import Testing

@Suite struct HPACKConformanceTests {
    static let vectors: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("../shared/vectors/hpack").standardizedFileURL.path
    }()

    /// Counts cases with a wire under a folder, independently of the runner.
    static func wireCases(under folder: String) throws -> Int {
        var total = 0
        for case let path as String in FileManager.default.enumerator(atPath: folder)! where path.hasSuffix(".json") && (path as NSString).lastPathComponent.hasPrefix("story_") {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent(path))
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            total += (object?["cases"] as? [[String: Any]] ?? []).filter { $0["wire"] != nil }.count
        }
        return total
    }

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hpack-conformance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func everyStoryOfEveryEncoderFolderPasses() throws {
        var lines: [String] = []
        let result = try HPACKConformance.run(folder: Self.vectors) { lines.append($0) }
        let expected = try Self.wireCases(under: Self.vectors)
        print("hpack conformance over \(Self.vectors): \(HPACKConformance.summary(passed: result.passed, failed: result.failed))")
        #expect(expected > 13_000)
        #expect(result.passed == expected)
        #expect(result.failed == 0)
        #expect(lines.isEmpty)
        #expect(HPACKConformance.summary(passed: result.passed, failed: result.failed) == "\(expected) passed, 0 failed")
    }

    @Test func oneEncoderFolderAlone() throws {
        let folder = Self.vectors + "/nghttp2-change-table-size"
        let result = try HPACKConformance.run(folder: folder) { _ in }
        #expect(result.passed == (try Self.wireCases(under: folder)))
        #expect(result.failed == 0)
    }

    @Test func mismatchesAndBadWiresAreLoggedOncePerCase() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let story = """
            {"cases": [
              {"seqno": 0, "wire": "8286", "headers": [{":method": "GET"}, {":scheme": "http"}]},
              {"seqno": 1, "wire": "8286", "headers": [{":method": "GET"}, {":scheme": "https"}]},
              {"seqno": 2, "wire": "80", "headers": [{":method": "GET"}]},
              {"seqno": 3, "wire": "82", "headers": [{":method": "GET"}]}
            ]}
            """
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("enc"), withIntermediateDirectories: true)
        try story.write(to: folder.appendingPathComponent("enc/story_00.json"), atomically: true, encoding: .utf8)
        var lines: [String] = []
        let result = try HPACKConformance.run(folder: folder.path) { lines.append($0) }
        #expect(result.passed == 1)
        #expect(result.failed == 3)
        #expect(lines.count == 3)
        #expect(lines[0].contains("enc/story_00.json case 1") && lines[0].contains(":scheme: https"))
        #expect(lines[1].contains("case 2") && lines[1].contains("indexZero"))
        #expect(lines[2].contains("case 3") && lines[2].contains("decoderUnusable"))
    }

    @Test func folderWithoutWiresIsAnError() throws {
        #expect(throws: HPACKConformance.RunError.self) {
            try HPACKConformance.run(folder: Self.vectors + "/raw-data") { _ in }
        }
        #expect(throws: HPACKConformance.RunError.self) {
            try HPACKConformance.run(folder: "/nonexistent/hpack") { _ in }
        }
    }
}
