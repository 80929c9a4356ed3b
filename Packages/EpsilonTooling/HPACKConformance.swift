import EpsilonHPACK
import Foundation

/// Runs the decoder over hpack-test-case story files and compares every header list.
///
/// The layout is that of http2jp/hpack-test-case: folders of `story_NN.json` files, each with
/// `cases` holding `wire` (hex), `headers` (a list of one-key objects) and an optional
/// `header_table_size`. All cases of a story share one decoder. Story files without `wire`
/// (the `raw-data` folder) are inputs for encoders and are skipped.
public enum HPACKConformance {
    /// Why a run could not start.
    public struct RunError: Error, CustomStringConvertible {
        /// What went wrong.
        public let description: String
    }

    /// Decodes every story under `folder` (searched recursively, so either one encoder's
    /// folder or a folder of such folders) and compares each case with its `headers`.
    ///
    /// Calls `log` once per failing case with a line naming the file, case and reason.
    /// Returns the number of cases that matched and that did not. Throws ``RunError`` when the
    /// folder holds no story with wire data or a story file cannot be read as JSON.
    public static func run(folder: String, log: (String) -> Void) throws -> (passed: Int, failed: Int) {
        let stories = try storyFiles(under: folder)
        var passed = 0
        var failed = 0
        var storiesWithWire = 0
        for path in stories {
            let cases = try loadCases(path)
            guard cases.contains(where: { $0.wire != nil }) else { continue }
            storiesWithWire += 1
            let result = check(story: path, cases: cases, log: log)
            passed += result.passed
            failed += result.failed
        }
        guard storiesWithWire > 0 else {
            throw RunError(description: "no story with wire data under \(folder)")
        }
        return (passed, failed)
    }

    /// The closing line for a run: `N passed, M failed`.
    public static func summary(passed: Int, failed: Int) -> String {
        "\(passed) passed, \(failed) failed"
    }

    fileprivate struct StoryCase {
        var seqno: Int
        var wire: [UInt8]?
        var headers: [(name: String, value: String)]
        var headerTableSize: Int?
    }

    fileprivate static func storyFiles(under folder: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunError(description: "not a folder: \(folder)")
        }
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else {
            throw RunError(description: "cannot list \(folder)")
        }
        var files: [String] = []
        for case let relative as String in enumerator {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix("story_") && name.hasSuffix(".json") {
                files.append((folder as NSString).appendingPathComponent(relative))
            }
        }
        return files.sorted()
    }

    fileprivate static func loadCases(_ path: String) throws -> [StoryCase] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = root["cases"] as? [[String: Any]] else {
            throw RunError(description: "\(path): no \"cases\" list")
        }
        return try cases.enumerated().map { position, item in
            var headers: [(String, String)] = []
            for header in item["headers"] as? [[String: String]] ?? [] {
                guard header.count == 1, let (name, value) = header.first else {
                    throw RunError(description: "\(path): case \(position): a header object must have one key")
                }
                headers.append((name, value))
            }
            var wire: [UInt8]?
            if let hex = item["wire"] as? String {
                guard let bytes = hpackHexBytes(hex) else {
                    throw RunError(description: "\(path): case \(position): wire is not hex")
                }
                wire = bytes
            }
            return StoryCase(
                seqno: item["seqno"] as? Int ?? position,
                wire: wire,
                headers: headers,
                headerTableSize: item["header_table_size"] as? Int)
        }
    }

    fileprivate static func check(
        story path: String, cases: [StoryCase], log: (String) -> Void
    ) -> (passed: Int, failed: Int) {
        let label = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
            + "/" + (path as NSString).lastPathComponent
        var decoder = HPACKHeaderBlockDecoder(configuration: .init(
            maxTableSize: 4096, maxHeaderListSize: 1 << 24, maxStringLength: 1 << 20))
        var passed = 0
        var failed = 0
        for storyCase in cases {
            guard let wire = storyCase.wire else {
                failed += 1
                log("FAIL \(label) case \(storyCase.seqno): no wire")
                continue
            }
            if let size = storyCase.headerTableSize { decoder.setMaxTableSize(size) }
            var decoded: [(name: [UInt8], value: [UInt8])] = []
            do {
                try decoder.receive(wire) { field in
                    decoded.append((Array(field.name), Array(field.value)))
                }
            } catch {
                failed += 1
                log("FAIL \(label) case \(storyCase.seqno): \(error)")
                continue
            }
            if let mismatch = firstMismatch(decoded, storyCase.headers) {
                failed += 1
                log("FAIL \(label) case \(storyCase.seqno): \(mismatch)")
            } else {
                passed += 1
            }
        }
        return (passed, failed)
    }

    fileprivate static func firstMismatch(
        _ decoded: [(name: [UInt8], value: [UInt8])], _ expected: [(name: String, value: String)]
    ) -> String? {
        for (position, pair) in zip(decoded, expected).enumerated() {
            if pair.0.name != Array(pair.1.name.utf8) || pair.0.value != Array(pair.1.value.utf8) {
                let got = String(decoding: pair.0.name, as: UTF8.self) + ": " + String(decoding: pair.0.value, as: UTF8.self)
                return "field \(position): got \"\(got)\", expected \"\(pair.1.name): \(pair.1.value)\""
            }
        }
        if decoded.count != expected.count {
            return "got \(decoded.count) fields, expected \(expected.count)"
        }
        return nil
    }
}

/// Parses hex text (whitespace and an optional `0x` prefix allowed); `nil` if it is not hex.
func hpackHexBytes(_ text: String) -> [UInt8]? {
    var digits = Array(text.utf8.filter { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) })
    if digits.count >= 2 && digits[0] == UInt8(ascii: "0") && (digits[1] | 0x20) == UInt8(ascii: "x") {
        digits.removeFirst(2)
    }
    guard digits.count % 2 == 0 else { return nil }
    func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
        index += 2
    }
    return bytes
}
