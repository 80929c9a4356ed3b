// Property: what HTTP1Serializer writes, HTTP1Parser reads back as the same message: start
// line, fields in order, body bytes, chunk sizes and trailers. And when the serializer
// refuses a piece, it throws and leaves the buffer as it was (its documented contract).
//
// Input: a flags byte (bit 0 response, bits 1-2 framing: none, Content-Length, chunked,
// until close; bit 3 HTTP/1.0; bit 4 an arbitrary version from the next two bytes), then
// length-prefixed pieces: method, target (requests) or two status bytes and a reason
// (responses), up to 15 fields (count byte, then name and value each), up to 15 body pieces
// and up to 7 trailer fields. Fields that decide framing (Content-Length, Transfer-Encoding,
// Host, Connection, Upgrade, Expect) are the harness's to write, so fuzzed ones are skipped.
import EpsilonHTTP1
import FuzzSupport

private let framingNames: Set<String> = ["content-length", "transfer-encoding", "host", "connection", "upgrade", "expect"]

private func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }

/// Runs one serializer call; if it throws, checks the buffer is untouched and reports false.
private func written(_ buffer: inout [UInt8], _ write: (inout [UInt8]) throws(HTTP1SerializeError) -> Void) -> Bool {
    let before = buffer
    do {
        try write(&buffer)
        return true
    } catch {
        fuzzCheck(buffer == before, "\(error) was thrown but the buffer changed")
        return false
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let isResponse = flags & 1 != 0
    var version: HTTP1Version = flags & 8 != 0 ? .http10 : .http11
    if flags & 16 != 0 { version = HTTP1Version(major: input.byte(), minor: input.byte()) }
    var framing = Int(flags >> 1 & 3)

    var out: [UInt8] = []
    var method = "", target = "", status = 0, reason = ""
    if isResponse {
        status = Int(input.uint16())
        reason = text(input.lengthPrefixed())
        guard written(&out, { (b) throws(HTTP1SerializeError) in try HTTP1Serializer.writeStatusLine(status: status, reason: reason, version: version, into: &b) }) else { return 0 }
    } else {
        method = text(input.lengthPrefixed())
        target = text(input.lengthPrefixed())
        guard written(&out, { (b) throws(HTTP1SerializeError) in try HTTP1Serializer.writeRequestLine(method: method, target: target, version: version, into: &b) }) else { return 0 }
    }
    // The parser reads only these versions without leniencies.
    guard version == .http10 || version == .http11 else { return 0 }

    // What the parser must report, and which framing applies (RFC 9112 §6.3).
    let upgrades = isResponse ? status == 101 : method == "CONNECT"
    let bodiless = isResponse && (status < 200 || status == 204 || status == 304)
    if upgrades || bodiless { framing = 0 }
    if framing == 3 && !isResponse { framing = 0 }        // a request has no close-delimited body
    if framing == 2 && version == .http10 { framing = 1 } // no Transfer-Encoding in HTTP/1.0

    var fields: [(String, String)] = []
    if !isResponse && version == .http11 {
        fields.append(("Host", "example.com"))
        _ = written(&out) { (b) throws(HTTP1SerializeError) in try HTTP1Serializer.writeField(name: "Host", value: "example.com", into: &b) }
    }
    for _ in 0..<input.byte() & 15 {
        let name = text(input.lengthPrefixed())
        let value = text(input.lengthPrefixed())
        if framingNames.contains(name.lowercased()) { continue }
        if written(&out, { (b) throws(HTTP1SerializeError) in try HTTP1Serializer.writeField(name: name, value: value, into: &b) }) {
            fields.append((name, value))
        }
    }
    let pieces = (0..<input.byte() & 15).map { _ in Array(input.lengthPrefixed()) }
    var trailerFields: [(String, String)] = []
    let body = pieces.flatMap { $0 }
    switch framing {
    case 1:
        fields.append(("Content-Length", String(body.count)))
        _ = written(&out) { (b) throws(HTTP1SerializeError) in try HTTP1Serializer.writeField(name: "Content-Length", value: UInt64(body.count), into: &b) }
    case 2:
        fields.append(("Transfer-Encoding", "chunked"))
        _ = written(&out) { (b) throws(HTTP1SerializeError) in try HTTP1Serializer.writeField(name: "Transfer-Encoding", value: "chunked", into: &b) }
    default:
        break
    }
    HTTP1Serializer.writeEndOfHead(into: &out)
    switch framing {
    case 1, 3:
        out += body
    case 2:
        for piece in pieces { HTTP1Serializer.writeChunk(piece, into: &out) }
        HTTP1Serializer.writeLastChunk(into: &out)
        for _ in 0..<input.byte() & 7 {
            let name = text(input.lengthPrefixed())
            let value = text(input.lengthPrefixed())
            if written(&out, { (b) throws(HTTP1SerializeError) in try HTTP1Serializer.writeField(name: name, value: value, into: &b) }) {
                trailerFields.append((name, value))
            }
        }
        HTTP1Serializer.writeEndOfHead(into: &out)
    default:
        break
    }

    // Read it back.
    var parser = HTTP1Parser(role: isResponse ? .response : .request)
    var parsedBody: [UInt8] = []
    var chunkSizes: [UInt64] = []
    var sawHead = false, sawTrailers = false, ended = false, sawUpgrade = false
    out.withUnsafeBytes { all in
        var consumed = 0
        func fail(_ what: String) -> Never {
            fatalError("fuzz property failed: \(what)\n  message: \(escaped(all))")
        }
        func check(_ fields: [HTTP1Field], _ expected: [(String, String)], _ bytes: UnsafeRawBufferPointer, _ what: String) {
            guard fields.count == expected.count else { fail("\(what): \(fields.count) fields read, \(expected.count) written") }
            for (field, (name, value)) in zip(fields, expected) {
                if !bytes[field.name].elementsEqual(name.utf8) || !bytes[field.value].elementsEqual(value.utf8) {
                    fail("\(what): wrote \(name): \(escaped(value.utf8)), read \(escaped(bytes[field.name])): \(escaped(bytes[field.value]))")
                }
            }
        }
        loop: while true {
            let bytes = UnsafeRawBufferPointer(rebasing: all[consumed...])
            let step: HTTP1Step
            do {
                step = try parser.parse(bytes)
            } catch {
                fail("the parser rejected the serializer's output: \(error)")
            }
            switch step.event {
            case .head(let head):
                sawHead = true
                if isResponse {
                    if head.status != status || !bytes[head.reason].elementsEqual(reason.utf8) {
                        fail("wrote status \(status) \(escaped(reason.utf8)), read \(head.status) \(escaped(bytes[head.reason]))")
                    }
                } else if !bytes[head.method].elementsEqual(method.utf8) || !bytes[head.target].elementsEqual(target.utf8) {
                    fail("wrote \(escaped(method.utf8)) \(escaped(target.utf8)), read \(escaped(bytes[head.method])) \(escaped(bytes[head.target]))")
                }
                if head.version != version { fail("wrote \(version), read \(head.version)") }
                check(parser.fields, fields, bytes, "head")
            case .body(let range):
                parsedBody += bytes[range]
            case .chunkHeader(let size, _):
                chunkSizes.append(size)
            case .trailers:
                sawTrailers = true
                check(parser.fields, trailerFields, bytes, "trailers")
            case .end:
                ended = true
                // An upgrading message ends, then the parser reports the switch.
                if !upgrades { break loop }
            case .upgrade:
                if !upgrades || !ended { fail("unexpected upgrade (end seen: \(ended))") }
                sawUpgrade = true
                break loop
            case .needMoreData:
                if step.consumed == 0 {
                    // Only a close-delimited body ends with the stream.
                    do {
                        if try parser.finish() == .end { ended = true }
                    } catch {
                        fail("finish threw \(error)")
                    }
                    break loop
                }
            case .expectContinue, .chunkEnd:
                break
            }
            consumed += step.consumed
        }
        if !sawHead || !ended { fail("no complete message read back (head: \(sawHead), end: \(ended))") }
        if sawUpgrade != upgrades { fail("upgrade expected: \(upgrades), read: \(sawUpgrade)") }
        if parsedBody != body && framing != 0 { fail("body changed: wrote \(escaped(body)), read \(escaped(parsedBody))") }
        if framing == 0 && !parsedBody.isEmpty { fail("a message without framing had a body") }
        if framing == 2 {
            let expectedSizes = pieces.filter { !$0.isEmpty }.map { UInt64($0.count) } + [0]
            if chunkSizes != expectedSizes { fail("chunk sizes \(chunkSizes), wrote \(expectedSizes)") }
            if sawTrailers != !trailerFields.isEmpty { fail("trailers read: \(sawTrailers), written: \(trailerFields.count)") }
        }
    }
    return 0
}
