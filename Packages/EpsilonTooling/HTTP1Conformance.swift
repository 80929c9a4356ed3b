import EpsilonHTTP1
import Foundation

/// Runs llhttp-style Markdown spec files against ``HTTP1Parser``.
///
/// A case passes when, fed whole and (unless its meta says `noScan`) byte by byte, Epsilon's
/// trace matches the expected log: the same events, offsets, values and message metadata.
/// For a case that expects an error, Epsilon must reject the input at or before the same
/// offset, and what it reported before that must be the start of the expected log. `pause`
/// lines are dropped (every event of ours is a point where the caller may stop), and so are
/// llhttp's callbacks for a part of a head, trailer section or chunk-size line that never
/// completed, since Epsilon reports those whole.
public enum HTTP1Conformance {
    /// The outcome of a run.
    public struct Summary: Sendable, Equatable {
        /// Cases that matched.
        public var passed = 0
        /// Cases that did not match and are not listed as known differences.
        public var failed = 0
        /// Cases listed in the expectations file that still differ.
        public var knownDifferences = 0
        /// Listed cases that now pass (the list should shrink).
        public var unexpectedlyPassing: [String] = []
    }

    /// One case listed as a deliberate difference from llhttp.
    public struct KnownDifference: Sendable, Equatable {
        /// The spec file, relative to the folder searched for `llhttp/...` specs.
        public var file: String
        /// The case name (headings joined with " > ").
        public var name: String
        /// Why Epsilon behaves differently.
        public var reason: String
    }

    /// Reads an expectations file: one `file | case name | reason` per line, `#` comments.
    public static func loadKnownDifferences(path: String) throws -> [KnownDifference] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { return nil }
            let parts = trimmed.components(separatedBy: " | ")
            guard parts.count >= 3 else { return nil }
            return KnownDifference(file: parts[0], name: parts[1], reason: parts[2...].joined(separator: " | "))
        }
    }

    /// Runs every case of every `.md` spec under `folder`, logging one line per failing case.
    public static func run(folder: String, knownDifferences: [KnownDifference] = [], log: (String) -> Void) throws -> Summary {
        var summary = Summary()
        let files = LLHTTPSpecFile.specFiles(under: folder)
        guard !files.isEmpty else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: folder])
        }
        for file in files {
            let text = try String(contentsOfFile: (folder as NSString).appendingPathComponent(file), encoding: .utf8)
            for specCase in LLHTTPSpecFile.cases(in: text, file: file) {
                let problem = check(specCase)
                let known = knownDifferences.first { file.hasSuffix($0.file) && $0.name == specCase.name }
                switch (problem, known) {
                case (nil, nil):
                    summary.passed += 1
                case (nil, .some):
                    summary.passed += 1
                    summary.unexpectedlyPassing.append("\(file) | \(specCase.name)")
                case (.some, .some):
                    summary.knownDifferences += 1
                case (.some(let problem), nil):
                    summary.failed += 1
                    log("FAIL \(file) :: \(specCase.name): \(problem)")
                }
            }
        }
        return summary
    }

    /// Checks one case; returns a description of the first difference, or `nil`.
    public static func check(_ specCase: LLHTTPSpecCase) -> String? {
        let expected = Expectation(specCase.log)
        let whole = specCase.kind == "url" ? urlTrace(specCase.input) : trace(specCase, chunkSize: specCase.input.count)
        if let problem = expected.compare(whole) { return "whole: \(problem)" }
        if !specCase.noScan && specCase.kind == "http" {
            if let problem = expected.compare(trace(specCase, chunkSize: 1)) { return "byte by byte: \(problem)" }
        }
        return nil
    }

    /// The parser configuration llhttp's `type` names.
    public static func configuration(forType type: String) -> (HTTP1Parser.Role, HTTP1Configuration) {
        let role: HTTP1Parser.Role = type.hasPrefix("response") ? .response : .request
        // llhttp never checks Host; everything else stays strict unless the type says so.
        var leniencies: HTTP1Leniencies = [.missingHost]
        let table: [(String, HTTP1Leniencies)] = [
            ("lenient-headers", [.obsoleteLineFolding, .controlBytesInValues, .whitespaceBeforeColon]),
            ("lenient-chunked-length", .contentLengthWithTransferEncoding),
            ("lenient-keep-alive", .keepAlive),
            ("lenient-transfer-encoding", .transferEncodingNotChunked),
            ("lenient-version", .anyVersion),
            ("lenient-data-after-close", .dataAfterClose),
            ("lenient-optional-lf-after-cr", .bareCR),
            ("lenient-optional-crlf-after-chunk", .missingCRLFAfterChunk),
            ("lenient-optional-cr-before-lf", .bareLF),
            ("lenient-spaces-after-chunk-size", .whitespaceAfterChunkSize),
            ("lenient-header-value-relaxed", .controlBytesInValues),
            ("lenient-all", .all),
        ]
        for (suffix, flags) in table where type.hasSuffix(suffix) { leniencies.formUnion(flags) }
        return (role, HTTP1Configuration(leniencies: leniencies))
    }

    static func trace(_ specCase: LLHTTPSpecCase, chunkSize: Int) -> [String] {
        let (role, configuration) = configuration(forType: specCase.type)
        var recorder = HTTP1TraceRecorder(parser: HTTP1Parser(role: role, configuration: configuration), skipBody: specCase.skipBody)
        var start = 0
        let size = max(chunkSize, 1)
        repeat {
            let end = min(start + size, specCase.input.count)
            recorder.feed(specCase.input[start..<end])
            start = end
        } while start < specCase.input.count
        if specCase.type.hasSuffix("-finish") { recorder.finish() }
        return recorder.lines
    }

    static func urlTrace(_ input: [UInt8]) -> [String] {
        input.withUnsafeBytes { b in
            do throws(HTTP1ParseError) {
                let target = try HTTP1RequestTarget.split(b, 0..<b.count)
                var lines: [String] = []
                let parts: [(String, Range<Int>?)] = [
                    ("url.schema", target.scheme), ("url.host", target.authority), ("url.path", target.path),
                    ("url.query", target.query), ("url.fragment", target.fragment),
                ]
                for case let (kind, range?) in parts {
                    lines.append("off=\(range.lowerBound) len=\(range.count) span[\(kind)]=\"\(escaped(b, range))\"")
                }
                return lines
            } catch {
                return ["off=\(error.offset) error reason=\"\(error.rule)\""]
            }
        }
    }
}

/// An expected log, normalised for comparison with Epsilon's trace.
struct Expectation {
    var lines: [String]
    var errorOffset: Int?

    static let partKinds = [
        "message begin", "reset", "span[method]", "method complete", "span[url]", "url complete",
        "span[protocol]", "protocol complete", "span[version]", "version complete", "span[status]",
        "status complete", "span[header_field]", "header_field complete", "span[header_value]",
        "header_value complete", "span[chunk_extension", "chunk_extension_", "span[url.",
    ]

    init(_ log: [String]) {
        var kept: [String] = []
        var tail: [String] = []
        for line in log where !line.hasSuffix(" pause") {
            if line.contains(" error code="), !line.contains("error code=22 ") {
                errorOffset = Int(line.dropFirst(4).prefix { $0.isNumber })
                break
            }
            if line.hasPrefix("off=NULL finish=") { tail.append(line); break }
            kept.append(line)
        }
        // Drop the callbacks of a part that never completed: Epsilon reports parts whole.
        let endsIncomplete = errorOffset != nil || tail.last == "off=NULL finish=2" || true
        if endsIncomplete {
            while let last = kept.last, Self.partKinds.contains(where: { last.contains($0) }),
                  !(last.contains("span[url.") && errorOffset == nil) {
                kept.removeLast()
            }
        }
        lines = mergeBodySpans(kept) + tail
    }

    /// The first difference between this expectation and an actual trace, or `nil`.
    func compare(_ actual: [String]) -> String? {
        var ours = actual
        var ourError: Int?
        if let last = ours.last, last.contains(" error reason=") {
            ourError = Int(last.dropFirst(4).prefix { $0.isNumber })
            ours.removeLast()
        }
        ours = mergeBodySpans(ours)
        if let expectedError = errorOffset {
            guard let ourError else { return "expected an error at \(expectedError), got none; trace: \(ours.suffix(3))" }
            if ourError > expectedError { return "error at \(ourError), expected at or before \(expectedError) (\(actual.last ?? ""))" }
            for (k, line) in ours.enumerated() where k >= lines.count || lines[k] != line {
                return "line \(k + 1): expected \(k < lines.count ? lines[k] : "nothing"), got \(line)"
            }
            return nil
        }
        if let ourError { return "unexpected error at \(ourError): \(actual.last ?? "")" }
        for k in 0..<max(ours.count, lines.count) {
            let want = k < lines.count ? lines[k] : "nothing"
            let got = k < ours.count ? ours[k] : "nothing"
            if want != got { return "line \(k + 1): expected \(want), got \(got)" }
        }
        return nil
    }
}

/// Joins consecutive body spans that touch, since how a body is split depends on the feed.
func mergeBodySpans(_ lines: [String]) -> [String] {
    var out: [String] = []
    var previous: (offset: Int, length: Int, text: String)?
    func flush() {
        if let p = previous { out.append("off=\(p.offset) len=\(p.length) span[body]=\"\(p.text)\"") }
        previous = nil
    }
    for line in lines {
        if let parsed = parseBodySpan(line) {
            if let p = previous, p.offset + p.length == parsed.offset {
                previous = (p.offset, p.length + parsed.length, p.text + parsed.text)
            } else {
                flush()
                previous = parsed
            }
        } else {
            flush()
            out.append(line)
        }
    }
    flush()
    return out
}

private func parseBodySpan(_ line: String) -> (offset: Int, length: Int, text: String)? {
    guard let marker = line.range(of: " span[body]=") else { return nil }
    let parts = line.split(separator: " ", maxSplits: 2)
    guard parts.count == 3, let offset = Int(parts[0].dropFirst(4)), let length = Int(parts[1].dropFirst(4)) else { return nil }
    // llhttp's fixtures print a lone CR or LF of a span as `cr` / `lf`, unquoted.
    let value = line[marker.upperBound...]
    switch value {
    case "cr": return (offset, length, "\\r")
    case "lf": return (offset, length, "\\n")
    default: return (offset, length, String(value.dropFirst().dropLast()))
    }
}
