import Foundation

/// Paths and loaders for the shared HPACK vectors (read in place, never copied).
enum Vectors {
    /// `../shared/vectors/hpack` relative to the package root.
    static let hpackFolder: URL = {
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.appendingPathComponent("../shared/vectors/hpack").standardizedFileURL
    }()

    static func folder(_ name: String) -> URL { hpackFolder.appendingPathComponent(name) }

    static func json(_ url: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: url)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw VectorError(description: "\(url.path): not a JSON object")
        }
        return object
    }

    static func storyFiles(in folder: String) throws -> [URL] {
        let url = self.folder(folder)
        return try FileManager.default.contentsOfDirectory(atPath: url.path)
            .filter { $0.hasPrefix("story_") && $0.hasSuffix(".json") }
            .sorted()
            .map { url.appendingPathComponent($0) }
    }

    struct StoryCase {
        var wire: [UInt8]?
        var headers: [(name: String, value: String)]
        var headerTableSize: Int?
    }

    static func story(_ url: URL) throws -> [StoryCase] {
        let root = try json(url)
        guard let cases = root["cases"] as? [[String: Any]] else {
            throw VectorError(description: "\(url.path): no cases")
        }
        return cases.map { item in
            StoryCase(
                wire: (item["wire"] as? String).map(hex),
                headers: headers(item["headers"]),
                headerTableSize: item["header_table_size"] as? Int)
        }
    }

    static func headers(_ value: Any?) -> [(name: String, value: String)] {
        (value as? [[String: String]] ?? []).map { ($0.first!.key, $0.first!.value) }
    }

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8.filter { $0 != 0x20 && $0 != 0x0A })
        var bytes: [UInt8] = []
        var index = 0
        while index + 1 < digits.count {
            bytes.append(UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16)!)
            index += 2
        }
        return bytes
    }

    static func hexString(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}

struct VectorError: Error, CustomStringConvertible {
    let description: String
}

/// Pairs of byte arrays, for comparing decoded fields with expectations.
struct FieldBytes: Equatable, CustomStringConvertible {
    var name: [UInt8]
    var value: [UInt8]
    init(_ name: String, _ value: String) {
        self.name = Array(name.utf8)
        self.value = Array(value.utf8)
    }
    init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }
    var description: String { String(decoding: name, as: UTF8.self) + ": " + String(decoding: value, as: UTF8.self) }
}
