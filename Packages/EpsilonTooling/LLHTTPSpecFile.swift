import Foundation

/// One case of an llhttp-style Markdown spec: an input block and its expected trace.
public struct LLHTTPSpecCase: Sendable {
    /// The headings above the case, joined with " > ".
    public var name: String
    /// The file the case came from, relative to the folder that was searched.
    public var file: String
    /// `http` or `url`.
    public var kind: String
    /// The `type` of its meta comment (`request`, `response-lenient-headers`, ...), or "".
    public var type: String
    /// Whether the case must not be re-fed byte by byte.
    public var noScan: Bool
    /// Whether a response's body is skipped (`skipBody`).
    public var skipBody: Bool
    /// The input bytes, escapes and line continuations resolved.
    public var input: [UInt8]
    /// The expected trace lines.
    public var log: [String]
}

/// Reads llhttp-style Markdown spec files: `## headings`, `<!-- meta={...} -->`, fenced
/// ```` ```http ````/```` ```url ```` input blocks and ```` ```log ```` expectations.
public enum LLHTTPSpecFile {
    /// Every `.md` file under `folder`, sorted, as paths relative to it.
    public static func specFiles(under folder: String) -> [String] {
        let url = URL(fileURLWithPath: folder)
        guard let walker = FileManager.default.enumerator(atPath: url.path) else { return [] }
        var files: [String] = []
        while let path = walker.nextObject() as? String {
            if path.hasSuffix(".md"), !path.lowercased().hasSuffix("readme.md"),
               !path.uppercased().hasSuffix("PROVENANCE.MD"), !path.uppercased().contains("README") {
                files.append(path)
            }
        }
        return files.sorted()
    }

    /// The cases of one file's text.
    public static func cases(in text: String, file: String) -> [LLHTTPSpecCase] {
        var result: [LLHTTPSpecCase] = []
        var headings: [(level: Int, title: String)] = []
        var meta: [String: Any] = [:]
        var pendingInput: (kind: String, lines: [String])?
        var pendingMeta: [String: Any] = [:]
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            if line.hasPrefix("#") {
                let level = line.prefix(while: { $0 == "#" }).count
                let title = line.dropFirst(level).trimmingCharacters(in: .whitespaces)
                headings.removeAll { $0.level >= level }
                headings.append((level, title))
                meta = [:]
                continue
            }
            if line.hasPrefix("<!-- meta="), let json = line.range(of: "meta=").map({ line[$0.upperBound...] }) {
                let body = json.replacingOccurrences(of: "-->", with: "").trimmingCharacters(in: .whitespaces)
                if let data = body.data(using: .utf8),
                   let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                    meta = object
                }
                continue
            }
            guard line.hasPrefix("```") else { continue }
            let fence = line.dropFirst(3).trimmingCharacters(in: .whitespaces)
            var block: [String] = []
            while index < lines.count, !lines[index].hasPrefix("```") {
                block.append(lines[index])
                index += 1
            }
            index += 1
            switch fence {
            case "http", "url":
                pendingInput = (fence, block)
                pendingMeta = meta
            case "log":
                guard let input = pendingInput else { continue }
                let name = headings.map(\.title).joined(separator: " > ")
                result.append(LLHTTPSpecCase(
                    name: name, file: file, kind: input.kind,
                    type: pendingMeta["type"] as? String ?? "",
                    noScan: pendingMeta["noScan"] as? Bool ?? false,
                    skipBody: pendingMeta["skipBody"] as? Bool ?? false,
                    input: decodeInput(input.lines, kind: input.kind),
                    log: block.filter { !$0.isEmpty }
                ))
                pendingInput = nil
            default:
                continue
            }
        }
        return result
    }

    /// Joins the block's lines with CRLF (nothing for `url` blocks), drops a trailing `\`
    /// continuation, and resolves `\r \n \t \f \0 \xHH` (U+00HH, UTF-8 encoded).
    public static func decodeInput(_ lines: [String], kind: String) -> [UInt8] {
        var joined = ""
        for (k, line) in lines.enumerated() {
            var line = line
            var continued = false
            // A trailing backslash joins the next line; on the last line it is a literal byte.
            if k < lines.count - 1 && line.hasSuffix("\\") && !line.hasSuffix("\\\\") {
                line.removeLast()
                continued = true
            }
            joined += line
            if k < lines.count - 1 && !continued && kind == "http" { joined += "\r\n" }
        }
        var output: [UInt8] = []
        var scalars = Array(joined.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            guard scalar == "\\", let next = scalars.first else {
                output.append(contentsOf: Array(String(scalar).utf8))
                continue
            }
            scalars.removeFirst()
            switch next {
            case "r": output.append(0x0D)
            case "n": output.append(0x0A)
            case "t": output.append(0x09)
            case "f": output.append(0x0C)
            case "0": output.append(0x00)
            case "x":
                let hex = String(String.UnicodeScalarView(scalars.prefix(2)))
                if hex.count == 2, let value = UInt32(hex, radix: 16), let code = Unicode.Scalar(value) {
                    scalars.removeFirst(2)
                    output.append(contentsOf: Array(String(code).utf8))
                } else {
                    output.append(contentsOf: [0x5C, 0x78])
                }
            default:
                output.append(0x5C)
                output.append(contentsOf: Array(String(next).utf8))
            }
        }
        return output
    }
}
