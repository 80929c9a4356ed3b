import EpsilonHPACK
import EpsilonHTTP2
import Testing

/// RFC 9113 §8.1: message framing, trailers, content-length.
@Suite struct RFC9113_8_1_Messages {
    @Test func requestWithBodyAndTrailersIsDelivered() {
        var harness = ServerHarness()
        let reaction = harness.send(Wire.headers(1, Wire.post([HPACKHeaderField("content-length", "5")]), endStream: false)
            + Wire.data(1, Array("hello".utf8))
            + Wire.headers(1, [HPACKHeaderField("x-checksum", "abc")], endStream: true))
        expectAccepted(reaction)
        #expect(reaction.events == [
            .headers(streamID: 1, Wire.post([HPACKHeaderField("content-length", "5")]), endStream: false),
            .data(streamID: 1, Array("hello".utf8), endStream: false),
            .trailers(streamID: 1, [HPACKHeaderField("x-checksum", "abc")]),
        ])
    }

    @Test func trailersWithoutEndStreamAreMalformed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectStreamError(harness.send(Wire.headers(1, [HPACKHeaderField("x-t", "1")], endStream: false)), 1, .protocolError)
    }

    @Test func pseudoHeaderInTrailersIsMalformed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectStreamError(harness.send(Wire.headers(1, [HPACKHeaderField(":path", "/x")], endStream: true)), 1, .protocolError)
    }

    @Test func section8_1_1_dataLongerThanContentLengthIsMalformed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, Wire.post([HPACKHeaderField("content-length", "3")]), endStream: false))
        expectStreamError(harness.send(Wire.data(1, [1, 2, 3, 4])), 1, .protocolError)
    }

    @Test func section8_1_1_dataShorterThanContentLengthIsMalformed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, Wire.post([HPACKHeaderField("content-length", "3")]), endStream: false))
        expectStreamError(harness.send(Wire.data(1, [1, 2], endStream: true)), 1, .protocolError)
    }

    @Test func section8_1_1_contentLengthWithoutBodyIsMalformed() {
        var harness = ServerHarness()
        expectStreamError(harness.send(Wire.headers(1, Wire.post([HPACKHeaderField("content-length", "3")]), endStream: true)), 1, .protocolError)
    }

    @Test func section8_1_1_conflictingContentLengthsAreMalformed() {
        var harness = ServerHarness()
        expectStreamError(harness.send(Wire.headers(1, Wire.post([HPACKHeaderField("content-length", "3"), HPACKHeaderField("content-length", "4")]), endStream: false)), 1, .protocolError)
    }

    @Test func clientAcceptsInformationalThenFinalResponse() throws {
        var client = HTTP2Connection(role: .client)
        _ = try client.receive(Wire.settings(), now: 0)
        let id = try client.startRequest(Wire.request, endStream: true)
        let events = try client.receive(
            Wire.headers(id, [HPACKHeaderField(":status", "103"), HPACKHeaderField("link", "</a.css>")], endStream: false)
            + Wire.headers(id, [HPACKHeaderField(":status", "200"), HPACKHeaderField("content-length", "2")], endStream: false)
            + Wire.data(id, [1, 2], endStream: true), now: 0)
        #expect(events.count == 3)
        #expect(events.last == .data(streamID: id, [1, 2], endStream: true))
        #expect(client.activeStreamCount == 0)
    }

    @Test func dataBeforeTheResponseHeadIsMalformed() throws {
        var client = HTTP2Connection(role: .client)
        _ = try client.receive(Wire.settings(), now: 0)
        let id = try client.startRequest(Wire.request, endStream: true)
        _ = client.takeOutput()
        expectStreamError(ServerHarness.feed(&client, Wire.data(id, [1, 2])), id, .protocolError)
    }

    @Test func responseToHeadMayCarryContentLengthWithoutBody() throws {
        var client = HTTP2Connection(role: .client)
        _ = try client.receive(Wire.settings(), now: 0)
        let id = try client.startRequest([HPACKHeaderField(":method", "HEAD"), HPACKHeaderField(":scheme", "http"), HPACKHeaderField(":path", "/"), HPACKHeaderField(":authority", "a")], endStream: true)
        let events = try client.receive(Wire.headers(id, [HPACKHeaderField(":status", "200"), HPACKHeaderField("content-length", "1000")], endStream: true), now: 0)
        #expect(events == [.headers(streamID: id, [HPACKHeaderField(":status", "200"), HPACKHeaderField("content-length", "1000")], endStream: true)])
        #expect(client.takeOutput().isEmpty == false)
    }
}

/// RFC 9113 §8.2: field names and values, connection-specific fields.
@Suite struct RFC9113_8_2_Fields {
    @Test(arguments: [
        ("x-UPPER", "1"),          // §8.2.1 upper case name
        ("x-a", " leading"),       // §8.2.1 leading whitespace
        ("x-a", "trailing\t"),     // §8.2.1 trailing whitespace
        ("x-a", "line\r\nbreak"),  // §8.2.1 CR LF
        ("x a", "1"),              // not a token
        ("connection", "keep-alive"),      // §8.2.2
        ("keep-alive", "timeout=5"),
        ("proxy-connection", "keep-alive"),
        ("transfer-encoding", "chunked"),
        ("upgrade", "websocket"),
        ("te", "gzip"),            // §8.2.2: only "trailers"
    ])
    func malformedFieldIsAStreamProtocolError(name: String, value: String) {
        var harness = ServerHarness()
        expectStreamError(harness.send(Wire.headers(1, Wire.request + [HPACKHeaderField(name, value)])), 1, .protocolError)
    }

    @Test func teTrailersIsAllowed() {
        var harness = ServerHarness()
        expectAccepted(harness.send(Wire.headers(1, Wire.request + [HPACKHeaderField("te", "trailers")])))
    }
}

/// RFC 9113 §8.3: pseudo-header fields.
@Suite struct RFC9113_8_3_PseudoHeaders {
    static let base = Wire.request

    @Test(arguments: [
        ("unknown pseudo-header", base + [HPACKHeaderField(":foo", "bar")]),
        ("response pseudo-header in a request", base + [HPACKHeaderField(":status", "200")]),
        ("pseudo-header after a regular field", [HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"), HPACKHeaderField("x-a", "b"), HPACKHeaderField(":path", "/")]),
        ("duplicate :path", base + [HPACKHeaderField(":path", "/again")]),
        ("duplicate :method", [HPACKHeaderField(":method", "GET")] + base),
        ("duplicate :scheme", base + [HPACKHeaderField(":scheme", "https")]),
        ("missing :method", Array(base.dropFirst())),
        ("missing :scheme", base.filter { $0.name != ":scheme" }),
        ("missing :path", base.filter { $0.name != ":path" }),
        ("empty :path", base.map { $0.name == ":path" ? HPACKHeaderField(":path", "") : $0 }),
        (":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL", base + [HPACKHeaderField(":protocol", "websocket")]),
        ("CONNECT with :path", [HPACKHeaderField(":method", "CONNECT"), HPACKHeaderField(":authority", "a:443"), HPACKHeaderField(":path", "/")]),
    ])
    func malformedRequestIsAStreamProtocolError(_ label: String, fields: [HPACKHeaderField]) {
        var harness = ServerHarness()
        expectStreamError(harness.send(Wire.headers(1, fields)), 1, .protocolError)
    }

    @Test func connectWithAuthorityOnlyIsAccepted() {
        var harness = ServerHarness()
        expectAccepted(harness.send(Wire.headers(1, [HPACKHeaderField(":method", "CONNECT"), HPACKHeaderField(":authority", "a:443")], endStream: false)))
    }

    @Test func responseWithoutStatusIsMalformed() throws {
        var client = HTTP2Connection(role: .client)
        _ = try client.receive(Wire.settings(), now: 0)
        let id = try client.startRequest(Wire.request, endStream: true)
        _ = client.takeOutput()
        let reaction = ServerHarness.feed(&client, Wire.headers(id, [HPACKHeaderField("x-a", "b")]))
        expectStreamError(reaction, id, .protocolError)
    }

    @Test func malformedRequestStillKeepsTheHPACKContext() {
        var harness = ServerHarness()
        // An indexed-with-incremental-indexing field in a malformed block must still enter
        // the table: the next block refers to it by index 62.
        var block: [UInt8] = [0x82, 0x84, 0x86]  // :method GET, :path /, :scheme http
        block += [0x40, 5] + Array("x-abc".utf8) + [3] + Array("def".utf8)
        block += [0x40, 7] + Array("x-UPPER".utf8) + [1, 0x31]
        _ = harness.send(Wire.headers(1, block: block))
        // After :authority enters the table, x-abc is entry 64 (0xc0).
        let reaction = harness.send(Wire.headers(3, block: [0x82, 0x84, 0x86, 0x41, 1, 0x61, 0xc0]))
        expectAccepted(reaction)
        #expect(reaction.events == [.headers(streamID: 3, [HPACKHeaderField(":method", "GET"), HPACKHeaderField(":path", "/"), HPACKHeaderField(":scheme", "http"), HPACKHeaderField(":authority", "a"), HPACKHeaderField("x-abc", "def")], endStream: true)])
    }
}

/// RFC 7541 through the connection: every HPACK error is a COMPRESSION_ERROR (RFC 9113 §4.3).
@Suite struct RFC7541_HPACKThroughTheConnection {
    @Test(arguments: [
        ("index 0", [UInt8(0x80)]),
        ("index past both tables", [UInt8(0xbe)]),
        ("size update above the SETTINGS limit", [UInt8(0x3f), 0xe2, 0x1f]),
        ("size update after a field", [UInt8(0x82), 0x20]),
        ("truncated integer", [UInt8(0xff)]),
        ("string past the block", [UInt8(0x40), 0x0a, 0x61]),
        ("Huffman EOS", [UInt8(0x82), 0x84, 0x86, 0x41, 0x84, 0xff, 0xff, 0xff, 0xff]),
        ("Huffman padding not ones", [UInt8(0x82), 0x84, 0x86, 0x41, 0x81, 0x00]),
    ])
    func invalidBlockIsACompressionError(_ label: String, block: [UInt8]) {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.headers(1, block: block)), .compressionError)
    }

    @Test func dynamicTableIsSharedAcrossStreams() {
        var harness = ServerHarness()
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(policy: .always))
        var first: [UInt8] = []
        encoder.encode(Wire.request + [HPACKHeaderField("x-session", "abc123")], into: &first)
        var second: [UInt8] = []
        encoder.encode(Wire.request + [HPACKHeaderField("x-session", "abc123")], into: &second)
        #expect(second.count < first.count)
        let reaction = harness.send(Wire.headers(1, block: first) + Wire.headers(3, block: second))
        expectAccepted(reaction)
        #expect(reaction.events.count == 2)
        #expect(reaction.events.last == .headers(streamID: 3, Wire.request + [HPACKHeaderField("x-session", "abc123")], endStream: true))
    }
}
