import EpsilonHTTP1
@testable import EpsilonHTTPClient
import HTTPTypes
import Testing

/// The client's own response-head building: the same fields, names spelled as received, as
/// EpsilonHTTPTypes' bridge gives, and the value check that comes back with leniencies.
@Suite("Response head building")
struct ResponseHeadTests {
    static func head(_ text: String, configuration: HTTP1Configuration = HTTP1Configuration()) throws(HTTPClientError) -> HTTPResponse? {
        var reader = HTTP1ResponseReader(configuration: configuration)
        var output: [UInt8] = []
        try reader.startRequest(method: "GET", target: "/", fields: [("Host", "h")], body: .empty, into: &output)
        try reader.receive(Array(text.utf8))
        try reader.checkHead()
        return reader.head
    }

    @Test
    func keepsNamesAsReceivedAndValues() throws {
        let response = try #require(try Self.head(
            "HTTP/1.1 201 Made\r\nServer: nginx/1.22.1\r\ncontent-length: 2\r\nX-Custom: a\tb\r\n"
            + "CONTENT-TYPE: text/plain\r\nDate: Sun, 06 Dec 2026 23:01:38 GMT\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\nhi"))
        #expect(response.status.code == 201)
        #expect(response.status.reasonPhrase == "Made")
        let names = response.headerFields.map(\.name.rawName)
        #expect(names == ["Server", "content-length", "X-Custom", "CONTENT-TYPE", "Date", "Set-Cookie", "set-cookie"])
        #expect(response.headerFields.map(\.name.canonicalName)
                == ["server", "content-length", "x-custom", "content-type", "date", "set-cookie", "set-cookie"])
        #expect(response.headerFields[.server] == "nginx/1.22.1")
        #expect(response.headerFields[.contentLength] == "2")
        #expect(response.headerFields[HTTPField.Name("x-custom")!] == "a\tb")
        #expect(response.headerFields[.contentType] == "text/plain")
        #expect(response.headerFields[.date] == "Sun, 06 Dec 2026 23:01:38 GMT")
        #expect(response.headerFields[values: .setCookie] == ["a=1", "b=2"])
    }

    @Test
    func checksValuesWhenLeniencyLetsControlBytesThrough() throws {
        let text = "HTTP/1.1 200 OK\r\nX-Bad: a\u{01}b\r\nContent-Length: 0\r\n\r\n"
        // The machine itself refuses the byte by default…
        #expect(throws: (any Error).self) { try Self.head(text) }
        // …and with the leniency, the head is refused here as the bridge would.
        #expect(throws: HTTPClientError.invalidResponseHead("invalidFieldValue: X-Bad")) {
            try Self.head(text, configuration: HTTP1Configuration(leniencies: .controlBytesInValues))
        }
    }
}
