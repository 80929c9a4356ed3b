import EpsilonHTTP1
import EpsilonHTTPTypes
import HTTPTypes
import Testing

/// Parses one head with the HTTP/1.1 parser and converts it while its views are valid.
private func convert<Value>(
    _ text: String,
    role: HTTP1Parser.Role,
    _ body: (HTTP1Head, [HTTP1Field], UnsafeRawBufferPointer) throws -> Value
) throws -> Value {
    var parser = HTTP1Parser(role: role)
    let input = Array(text.utf8)
    return try input.withUnsafeBytes { bytes in
        var offset = 0
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            let step = try parser.parse(rest)
            offset += step.consumed
            if case .head(let head) = step.event { return try body(head, parser.fields, rest) }
            if step.consumed == 0 { throw HTTPTypesBridgeError(.invalidTarget, detail: "no head in input") }
        }
    }
}

@Suite struct HTTP1ToHTTPTypes {
    @Test func originFormTakesAuthorityFromHost() throws {
        let request = try convert("GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n", role: .request) {
            try HTTPRequest(http1Head: $0, fields: $1, in: $2)
        }
        #expect(request.method == .get)
        #expect(request.scheme == nil)
        #expect(request.authority == "example.com")
        #expect(request.path == "/a/b?x=1")
        #expect(request.headerFields[.accept] == "*/*")
        #expect(request.headerFields[HTTPField.Name("host")!] == nil)
    }

    @Test func absoluteFormGivesSchemeAndAuthority() throws {
        let request = try convert("GET http://h.test:8080/p?q HTTP/1.1\r\nHost: h.test:8080\r\n\r\n", role: .request) {
            try HTTPRequest(http1Head: $0, fields: $1, in: $2)
        }
        #expect(request.scheme == "http")
        #expect(request.authority == "h.test:8080")
        #expect(request.path == "/p?q")
    }

    @Test func connectIsAuthorityForm() throws {
        let request = try convert("CONNECT h.test:443 HTTP/1.1\r\nHost: h.test:443\r\n\r\n", role: .request) {
            try HTTPRequest(http1Head: $0, fields: $1, in: $2)
        }
        #expect(request.method == .connect)
        #expect(request.authority == "h.test:443")
        #expect(request.path == nil)
    }

    @Test func asteriskFormIsPathStar() throws {
        let request = try convert("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", role: .request) {
            try HTTPRequest(http1Head: $0, fields: $1, in: $2)
        }
        #expect(request.method == .options)
        #expect(request.path == "*")
    }

    @Test func responseKeepsStatusReasonAndFields() throws {
        let response = try convert("HTTP/1.1 404 Gone Fishing\r\nContent-Length: 0\r\nX-A: 1\r\n\r\n", role: .response) {
            try HTTPResponse(http1Head: $0, fields: $1, in: $2)
        }
        #expect(response.status.code == 404)
        #expect(response.status.reasonPhrase == "Gone Fishing")
        #expect(response.headerFields[HTTPField.Name("x-a")!] == "1")
        #expect(response.headerFields[.contentLength] == "0")
    }

    @Test func fieldBytesSwiftHTTPTypesRefusesAreTypedErrors() throws {
        var fields = HTTPFields()
        let bad: [UInt8] = Array("a b".utf8)
        let value: [UInt8] = Array("v".utf8)
        #expect(throws: HTTPTypesBridgeError.self) {
            try bad.withUnsafeBytes { name in try value.withUnsafeBytes { v in try fields.append(name: name, value: v) } }
        }
        #expect(fields.isEmpty)
    }
}

@Suite struct HTTPTypesToHTTP1 {
    @Test func requestHeadRoundTripsThroughTheParser() throws {
        var request = HTTPRequest(method: .post, scheme: "https", authority: "api.test", path: "/v1/items?x=2")
        request.headerFields[.contentType] = "application/json"
        var out: [UInt8] = []
        try request.writeHTTP1Head(into: &out)
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.hasPrefix("POST /v1/items?x=2 HTTP/1.1\r\nHost: api.test\r\n"))
        let back = try convert(text, role: .request) { try HTTPRequest(http1Head: $0, fields: $1, in: $2) }
        #expect(back.method == .post)
        #expect(back.authority == "api.test")
        #expect(back.path == "/v1/items?x=2")
        #expect(back.headerFields[.contentType] == "application/json")
    }

    @Test func responseHeadRoundTripsThroughTheParser() throws {
        var response = HTTPResponse(status: .created)
        response.headerFields[.contentLength] = "0"
        response.headerFields[.location] = "/v1/items/7"
        var out: [UInt8] = []
        try response.writeHTTP1Head(into: &out)
        let back = try convert(String(decoding: out, as: UTF8.self), role: .response) {
            try HTTPResponse(http1Head: $0, fields: $1, in: $2)
        }
        #expect(back.status == .created)
        #expect(back.headerFields[.location] == "/v1/items/7")
    }
}
