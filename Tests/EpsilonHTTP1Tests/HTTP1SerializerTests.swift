import EpsilonHTTP1
import Testing

@Suite struct HTTP1SerializerTests {
    @Test func writesAResponseThatParsesBack() throws {
        var out: [UInt8] = []
        try HTTP1Serializer.writeStatusLine(status: 200, reason: "OK", into: &out)
        try HTTP1Serializer.writeField(name: "Content-Type", value: "text/plain", into: &out)
        try HTTP1Serializer.writeField(name: "Transfer-Encoding", value: "chunked", into: &out)
        HTTP1Serializer.writeEndOfHead(into: &out)
        HTTP1Serializer.writeChunk(Array("hello world, this is chunked".utf8), into: &out)
        HTTP1Serializer.writeChunk([UInt8](), into: &out)
        HTTP1Serializer.writeLastChunk(into: &out)
        try HTTP1Serializer.writeField(name: "Checksum", value: "abc", into: &out)
        HTTP1Serializer.writeEndOfHead(into: &out)
        let outcome = parse(out, role: .response)
        #expect(outcome.error == nil)
        #expect(outcome.events == [
            .head(start: "HTTP/1.1 200 OK", fields: ["Content-Type: text/plain", "Transfer-Encoding: chunked"], framing: .chunked, keepAlive: true, upgrade: false),
            .chunk(size: 28, extensions: ""), .body("hello world, this is chunked"), .chunkEnd,
            .chunk(size: 0, extensions: ""), .trailers(["Checksum: abc"]), .chunkEnd, .end,
        ])
        #expect(String(decoding: out.prefix(17), as: UTF8.self) == "HTTP/1.1 200 OK\r\n")
    }

    @Test func writesARequestThatParsesBack() throws {
        var out: [UInt8] = []
        try HTTP1Serializer.writeRequestLine(method: "POST", target: "/upload?x=1", into: &out)
        try HTTP1Serializer.writeField(name: "Host", value: "example.com", into: &out)
        try HTTP1Serializer.writeField(name: "Content-Length", value: 3, into: &out)
        HTTP1Serializer.writeEndOfHead(into: &out)
        out += "abc".utf8
        #expect(parse(out).events == [
            .head(start: "POST /upload?x=1 HTTP/1.1", fields: ["Host: example.com", "Content-Length: 3"], framing: .contentLength(3), keepAlive: true, upgrade: false),
            .body("abc"), .end,
        ])
    }

    @Test(arguments: ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\u{00}b", " leading", "trailing\t", "bell\u{07}"])
    func refusesValuesThatWouldSplitOrCorruptTheHead(_ value: String) {
        var out: [UInt8] = Array("kept".utf8)
        #expect(throws: HTTP1SerializeError.invalidFieldValue) {
            try HTTP1Serializer.writeField(name: "X", value: value, into: &out)
        }
        #expect(out == Array("kept".utf8), "nothing is written on error")
    }

    @Test(arguments: ["Bad Name", "X:Y", "", "X\r\n"])
    func refusesInvalidNames(_ name: String) {
        var out: [UInt8] = []
        #expect(throws: HTTP1SerializeError.invalidFieldName) {
            try HTTP1Serializer.writeField(name: name, value: "v", into: &out)
        }
    }

    @Test func refusesInjectionInStartLines() {
        var out: [UInt8] = []
        #expect(throws: HTTP1SerializeError.invalidTarget) {
            try HTTP1Serializer.writeRequestLine(method: "GET", target: "/ HTTP/1.1\r\nHost: evil", into: &out)
        }
        #expect(throws: HTTP1SerializeError.invalidMethod) {
            try HTTP1Serializer.writeRequestLine(method: "GE T", target: "/", into: &out)
        }
        #expect(throws: HTTP1SerializeError.invalidReasonPhrase) {
            try HTTP1Serializer.writeStatusLine(status: 200, reason: "OK\r\nX: y", into: &out)
        }
        #expect(throws: HTTP1SerializeError.invalidStatus) {
            try HTTP1Serializer.writeStatusLine(status: 42, reason: "", into: &out)
        }
        #expect(out.isEmpty)
    }
}
