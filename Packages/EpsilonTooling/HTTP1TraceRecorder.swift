import EpsilonHTTP1

/// Drives an ``HTTP1Parser`` like a real caller (keeping unconsumed bytes, adding new ones)
/// and renders its events as llhttp-style trace lines, so that a spec's expected log can be
/// compared with what Epsilon saw.
///
/// Epsilon reports heads, trailer sections and chunk-size lines whole, so the llhttp
/// callbacks for their parts (method, url, protocol, version, status, header field and
/// value, chunk extensions, and their `complete` lines) are derived here from the ranges
/// in the head. Positions come from those ranges and the bytes themselves.
struct HTTP1TraceRecorder {
    var parser: HTTP1Parser
    var lines: [String] = []
    /// Where the parser failed, if it did (stream offset).
    var errorOffset: Int?
    var error: HTTP1ParseError?
    var stopped = false
    let skipBody: Bool
    private var pending: [UInt8] = []
    private var pendingBase = 0
    private var messages = 0

    init(parser: HTTP1Parser, skipBody: Bool) {
        self.parser = parser
        self.skipBody = skipBody
    }

    /// Feeds more bytes; returns false once the parser stopped (error or upgrade).
    mutating func feed(_ chunk: ArraySlice<UInt8>) {
        guard !stopped else { return }
        pending.append(contentsOf: chunk)
        while !stopped {
            if skipBody && parser.isIdle { parser.expectResponse(to: .head) }
            let base = pendingBase
            var parser = self.parser
            var messages = self.messages
            var rendered: [String] = []
            // Work on local copies: nothing may mutate `self` while `pending` is borrowed.
            let bytes = pending
            let result: Result<HTTP1Step, HTTP1ParseError> = bytes.withUnsafeBytes { b in
                do throws(HTTP1ParseError) {
                    let step = try parser.parse(b)
                    rendered = render(step, b, base: base, parser: parser, messages: &messages)
                    return .success(step)
                } catch {
                    return .failure(error)
                }
            }
            self.parser = parser
            self.messages = messages
            switch result {
            case .failure(let failure):
                lines.append("off=\(failure.offset) error reason=\"\(failure.rule)\"")
                error = failure
                errorOffset = failure.offset
                stopped = true
            case .success(let step):
                lines.append(contentsOf: rendered)
                pending.removeFirst(step.consumed)
                pendingBase += step.consumed
                if step.event == .upgrade { stopped = true }
                if step.event == .needMoreData && step.consumed == 0 { return }
            }
        }
    }

    /// Tells the parser the input ended, as `llhttp_finish` does.
    mutating func finish() {
        guard !stopped else { return }
        do {
            let event = try parser.finish()
            lines.append("off=NULL finish=\(event == nil ? 0 : 1)")
        } catch {
            lines.append("off=NULL finish=2")
        }
    }

    private func render(_ step: HTTP1Step, _ b: UnsafeRawBufferPointer, base: Int, parser: HTTP1Parser, messages: inout Int) -> [String] {
        var out: [String] = []
        func at(_ offset: Int, _ text: String) { out.append("off=\(base + offset) \(text)") }
        func span(_ kind: String, _ range: Range<Int>) {
            at(range.lowerBound, "len=\(range.count) span[\(kind)]=\"\(escaped(b, range))\"")
        }
        switch step.event {
        case .needMoreData, .expectContinue:
            break
        case .head(let head):
            // Empty lines before the head are consumed with it: the head ends at `consumed`.
            let headStart = step.consumed - head.length
            let start: Int
            if head.isRequest {
                start = head.method.lowerBound
            } else {
                start = headStart
            }
            if messages > 0 { at(start, "reset") }
            messages += 1
            at(start, "message begin")
            if head.isRequest {
                span("method", head.method)
                at(head.method.upperBound, "method complete")
                span("url", head.target)
                at(head.target.upperBound + 1, "url complete")
                let protocolStart = head.target.upperBound + 1
                span("protocol", protocolStart..<protocolStart + 4)
                at(protocolStart + 4, "protocol complete")
                span("version", protocolStart + 5..<protocolStart + 8)
                at(protocolStart + 8, "version complete")
            } else {
                span("protocol", headStart..<headStart + 4)
                at(headStart + 4, "protocol complete")
                span("version", headStart + 5..<headStart + 8)
                at(headStart + 8, "version complete")
                // An empty reason phrase after its space is still an (empty) span.
                if !head.reason.isEmpty || head.reason.lowerBound == headStart + 13 { span("status", head.reason) }
                at(lineEnd(b, from: max(head.reason.upperBound, headStart + 12)), "status complete")
            }
            renderFields(parser.fields, b, &out, base: base)
            let kind = head.isRequest ? "method=\(methodNumber(b, head.method))" : "status=\(head.status)"
            at(step.consumed, "headers complete \(kind) v=\(head.version.major)/\(head.version.minor) flags=\(String(llhttpFlags(head), radix: 16)) content_length=\(contentLength(b, parser.fields))")
            if skipBody && !head.isRequest && head.status >= 200 { at(step.consumed, "skip body") }
        case .body(let range):
            span("body", range)
        case .chunkHeader(let size, let extensions):
            renderChunkExtensions(b, extensions, &out, base: base)
            at(step.consumed, "chunk header len=\(size)")
        case .chunkEnd:
            at(step.consumed, "chunk complete")
        case .trailers:
            renderFields(parser.fields, b, &out, base: base)
        case .end:
            at(0, "message complete")
        case .upgrade:
            at(0, "error code=22 reason=\"Pause on CONNECT/Upgrade\"")
        }
        return out
    }

    private func renderFields(_ fields: [HTTP1Field], _ b: UnsafeRawBufferPointer, _ out: inout [String], base: Int) {
        func at(_ offset: Int, _ text: String) { out.append("off=\(base + offset) \(text)") }
        for field in fields {
            // llhttp's field span runs to the colon (whitespace before it included, when allowed).
            var colon = field.name.upperBound
            while colon < b.count, b[colon] != 0x3A { colon += 1 }
            at(field.name.lowerBound, "len=\(colon - field.name.lowerBound) span[header_field]=\"\(escaped(b, field.name.lowerBound..<colon))\"")
            at(colon + 1, "header_field complete")
            // llhttp's value span runs to the line end, trailing whitespace included, and a
            // folded value is one span per line.
            var pieceStart = field.value.lowerBound
            var i = pieceStart
            var end = field.value.upperBound
            while end < b.count, b[end] == 0x20 || b[end] == 0x09 { end += 1 }
            while i < end {
                if b[i] == 0x0D || b[i] == 0x0A {
                    at(pieceStart, "len=\(i - pieceStart) span[header_value]=\"\(escaped(b, pieceStart..<i))\"")
                    if b[i] == 0x0D, i + 1 < b.count, b[i + 1] == 0x0A { i += 1 }
                    i += 1
                    pieceStart = i
                } else {
                    i += 1
                }
            }
            if end > pieceStart || pieceStart == field.value.lowerBound {
                // llhttp reports an empty value where the line ends.
                let offset = end > pieceStart ? pieceStart : valueComplete(b, from: end)
                at(offset, "len=\(end - pieceStart) span[header_value]=\"\(escaped(b, pieceStart..<end))\"")
            }
            at(valueComplete(b, from: end), "header_value complete")
        }
    }

    private func renderChunkExtensions(_ b: UnsafeRawBufferPointer, _ range: Range<Int>, _ out: inout [String], base: Int) {
        func at(_ offset: Int, _ text: String) { out.append("off=\(base + offset) \(text)") }
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            guard b[i] == 0x3B else { i += 1; continue }
            i += 1
            while i < end, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
            let nameStart = i
            while i < end, b[i] != 0x3D, b[i] != 0x3B, b[i] != 0x20, b[i] != 0x09 { i += 1 }
            at(nameStart, "len=\(i - nameStart) span[chunk_extension_name]=\"\(escaped(b, nameStart..<i))\"")
            at(i + 1, "chunk_extension_name complete")
            while i < end, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
            guard i < end, b[i] == 0x3D else { continue }
            i += 1
            while i < end, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
            let valueStart = i
            if i < end, b[i] == 0x22 {
                i += 1
                while i < end, b[i] != 0x22 { if b[i] == 0x5C { i += 1 }; i += 1 }
                i = min(i + 1, end)
                at(valueStart, "len=\(i - valueStart) span[chunk_extension_value]=\"\(escaped(b, valueStart..<i))\"")
                at(i, "chunk_extension_value complete")  // llhttp: right after the closing quote
            } else {
                while i < end, b[i] != 0x3B, b[i] != 0x20, b[i] != 0x09 { i += 1 }
                at(valueStart, "len=\(i - valueStart) span[chunk_extension_value]=\"\(escaped(b, valueStart..<i))\"")
                at(i + 1, "chunk_extension_value complete")
            }
        }
    }

    /// Where llhttp completes a value: past its line end and past any folded continuation
    /// line that holds only whitespace (lenient).
    private func valueComplete(_ b: UnsafeRawBufferPointer, from: Int) -> Int {
        var complete = lineEnd(b, from: from)
        while complete < b.count, b[complete] == 0x20 || b[complete] == 0x09 {
            var k = complete
            while k < b.count, b[k] == 0x20 || b[k] == 0x09 { k += 1 }
            guard k < b.count, b[k] == 0x0D || b[k] == 0x0A else { break }
            complete = lineEnd(b, from: k)
        }
        return complete
    }

    /// The offset just past the line terminator at or after `from`.
    private func lineEnd(_ b: UnsafeRawBufferPointer, from: Int) -> Int {
        var i = from
        while i < b.count, b[i] != 0x0D, b[i] != 0x0A { i += 1 }
        if i < b.count, b[i] == 0x0D { i += 1 }
        if i < b.count, b[i] == 0x0A { i += 1 }
        return i
    }

    private func contentLength(_ b: UnsafeRawBufferPointer, _ fields: [HTTP1Field]) -> UInt64 {
        for field in fields where String(decoding: b[field.name], as: UTF8.self).lowercased() == "content-length" {
            return UInt64(String(decoding: b[field.value].prefix { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self)) ?? 0
        }
        return 0
    }

    private func llhttpFlags(_ head: HTTP1Head) -> Int {
        var flags = 0
        if head.flags.contains(.connectionKeepAlive) { flags |= 0x1 }
        if head.flags.contains(.connectionClose) { flags |= 0x2 }
        if head.flags.contains(.connectionUpgrade) { flags |= 0x4 }
        if head.flags.contains(.chunked) { flags |= 0x8 }
        if head.flags.contains(.upgradeField) { flags |= 0x10 }
        if head.flags.contains(.contentLength) { flags |= 0x20 }
        if head.flags.contains(.transferEncoding) { flags |= 0x200 }
        return flags
    }

    private func methodNumber(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int {
        let name = String(decoding: b[range], as: UTF8.self)
        return llhttpMethods.firstIndex(of: name) ?? -1
    }
}

/// llhttp's method numbering (its `METHODS` enum), used in `headers complete method=N`.
let llhttpMethods = [
    "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK",
    "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND",
    "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE",
    "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE", "PRI",
    "DESCRIBE", "ANNOUNCE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER",
    "SET_PARAMETER", "REDIRECT", "RECORD", "FLUSH", "QUERY",
]

/// Bytes as llhttp's test fixtures print them: printable bytes as they are, `\r \n \t \f`
/// and `\xHH` for other control bytes.
func escaped(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
    var out: [UInt8] = []
    for byte in b[range] {
        switch byte {
        case 0x0D: out += [0x5C, 0x72]
        case 0x0A: out += [0x5C, 0x6E]
        case 0x09: out += [0x5C, 0x74]
        case 0x0C: out += [0x5C, 0x66]
        case 0..<0x20, 0x7F:
            out += Array("\\x\(String(byte, radix: 16).count == 1 ? "0" : "")\(String(byte, radix: 16))".utf8)
        default: out.append(byte)
        }
    }
    return String(decoding: out, as: UTF8.self)
}
