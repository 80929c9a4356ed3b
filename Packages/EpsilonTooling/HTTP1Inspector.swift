import EpsilonHTTP1

/// Turns a captured HTTP/1.1 byte stream into a readable account of the messages it holds.
public enum HTTP1Inspector {
    /// Describes every message in `bytes`, read as requests or responses.
    ///
    /// Ends with the typed error and its offset if the stream is malformed, or with a note
    /// when it stops in the middle of a message or switches protocols.
    public static func describe(_ bytes: [UInt8], role: HTTP1Parser.Role, configuration: HTTP1Configuration = HTTP1Configuration()) -> String {
        var parser = HTTP1Parser(role: role, configuration: configuration)
        var lines: [String] = []
        var offset = 0
        var messages = 0
        var bodyBytes = 0
        var preview: [UInt8] = []
        func text(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> String { printable(Array(b[r])) }
        bytes.withUnsafeBytes { all in
            while true {
                let b = UnsafeRawBufferPointer(rebasing: all[offset...])
                let step: HTTP1Step
                do throws(HTTP1ParseError) {
                    step = try parser.parse(b)
                } catch {
                    lines.append("error: \(error.rule) at byte \(error.offset)")
                    return
                }
                switch step.event {
                case .needMoreData where step.consumed == 0:
                    do throws(HTTP1ParseError) {
                        if try parser.finish() == .end { lines.append("  end of body (connection closed)") }
                    } catch {
                        lines.append("incomplete message: \(error.rule) at byte \(error.offset)")
                    }
                    lines.append("\(messages) message\(messages == 1 ? "" : "s"), \(offset) bytes")
                    return
                case .needMoreData:
                    break
                case .head(let head):
                    messages += 1
                    bodyBytes = 0
                    preview = []
                    let start = head.isRequest
                        ? "\(text(b, head.method)) \(text(b, head.target)) \(head.version)"
                        : "\(head.version) \(head.status) \(text(b, head.reason))"
                    // Empty lines before a head are consumed with it.
                    let headAt = offset + step.consumed - head.length
                    lines.append("\(head.isRequest ? "request" : "response") \(messages) at byte \(headAt): \(start)")
                    for field in parser.fields {
                        lines.append("  \(text(b, field.name)): \(text(b, field.value))")
                    }
                    lines.append("  framing: \(describe(head.framing)), keep-alive: \(head.keepAlive ? "yes" : "no")\(head.upgrade ? ", switches protocols" : "")")
                case .expectContinue:
                    lines.append("  expects 100-continue")
                case .body(let range):
                    bodyBytes += range.count
                    if preview.count < 64 { preview += b[range].prefix(64 - preview.count) }
                case .chunkHeader(let size, let extensions):
                    lines.append("  chunk of \(size) bytes\(extensions.isEmpty ? "" : " with extensions \(text(b, extensions))")")
                case .chunkEnd:
                    break
                case .trailers:
                    for field in parser.fields {
                        lines.append("  trailer \(text(b, field.name)): \(text(b, field.value))")
                    }
                case .end:
                    if bodyBytes > 0 {
                        lines.append("  body: \(bodyBytes) bytes: \"\(printable(preview))\(bodyBytes > preview.count ? "..." : "")\"")
                    }
                    lines.append("  end of message")
                case .upgrade:
                    lines.append("switches protocols at byte \(offset + step.consumed); \(all.count - offset - step.consumed) bytes follow in the new protocol")
                    return
                }
                offset += step.consumed
            }
        }
        return lines.joined(separator: "\n")
    }

    static func describe(_ framing: HTTP1Framing) -> String {
        switch framing {
        case .none: "no body"
        case .contentLength(let n): "Content-Length \(n)"
        case .chunked: "chunked"
        case .untilClose: "until the connection closes"
        }
    }

    /// Bytes as text, with control and non-ASCII bytes escaped.
    static func printable(_ bytes: [UInt8]) -> String {
        var out = ""
        for byte in bytes {
            switch byte {
            case 0x0D: out += "\\r"
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return out
    }
}
