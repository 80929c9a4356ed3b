import EpsilonHTTP1
import EpsilonHTTP2
import EpsilonHTTPTypes
import HTTPTypes
import Testing

/// Code written once against the shared shape: the field lines as "name: value" text.
private func describe(_ lines: some HTTPFieldLineViews) -> [String] {
    var out: [String] = []
    lines.forEachFieldLine { (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) in
        out.append(String(decoding: name, as: UTF8.self).lowercased() + ": " + String(decoding: value, as: UTF8.self))
    }
    return out
}

@Suite struct OneFieldViewShapeForHTTP1AndHTTP2 {
    @Test func theSameFieldsReadTheSameFromBothMachines() throws {
        // HTTP/1.1: the parser's offsets into the request bytes.
        let request = Array("GET /a HTTP/1.1\r\nHost: h\r\nAccept: text/html\r\nX-Trace: 7\r\n\r\n".utf8)
        var parser = HTTP1Parser(role: .request)
        let http1: (described: [String], accepts: Bool, owned: HTTPFields) = try request.withUnsafeBytes { bytes in
            let step = try parser.parse(bytes)
            guard case .head = step.event else { throw HTTPTypesBridgeError(.invalidTarget, detail: "no head") }
            let lines = HTTP1FieldLines(parser.fields, in: bytes)
            return (describe(lines), lines.containsField(named: "ACCEPT", value: "text/html"), try HTTPFields(fieldLines: lines))
        }
        // HTTP/2: the header list the machine hands out, pseudo-headers first.
        var list = HTTP2HeaderList()
        list.append(name: ":method", value: "GET")
        list.append(name: ":path", value: "/a")
        list.append(name: "host", value: "h")
        list.append(name: "accept", value: "text/html")
        list.append(name: "x-trace", value: "7")

        #expect(http1.described == ["host: h", "accept: text/html", "x-trace: 7"])
        #expect(describe(list) == http1.described)
        #expect(http1.accepts)
        #expect(list.containsField(named: "Accept", value: "text/html"))
        #expect(!list.containsField(named: "accept", value: "text/plain"))
        #expect(try HTTPFields(fieldLines: list) == http1.owned)
    }
}
