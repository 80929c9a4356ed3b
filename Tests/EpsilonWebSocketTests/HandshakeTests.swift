import EpsilonWebSocket
import Testing

@Suite struct RFC3174_SHA1 {
    static func hexDigest(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    // RFC 3174 §7.3 test vectors (TEST1–TEST4 with their repeat counts).
    @Test(arguments: [
        ("abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("a", 1_000_000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"),
        ("0123456701234567012345670123456701234567012345670123456701234567", 10, "dea356a2cddd90c7a7ecedc5ebb563934f460452"),
        ("", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ])
    func matchesRFCVectors(_ text: String, _ repeats: Int, _ digest: String) {
        var hasher = SHA1()
        let bytes = Array(text.utf8)
        for _ in 0..<repeats { hasher.update(bytes) }
        #expect(Self.hexDigest(hasher.finalize()) == digest)
    }

    @Test func paddingBoundaries() {
        // 55, 56, 63, 64 and 65 bytes cross the one/two-block padding boundary.
        let expected = [
            55: "c1c8bbdc22796e28c0e15163d20899b65621d65a", 56: "c2db330f6083854c99d4b5bfb6e8f29f201be699",
            63: "03f09f5b158a7a8cdad920bddc29b81c18a551f5", 64: "0098ba824b5c16427bd7a1122a5a442a25ec644d",
            65: "11655326c708d70319be2610e8a57d9a5b959d3b",
        ]
        for (count, digest) in expected {
            #expect(Self.hexDigest(SHA1.hash([UInt8](repeating: 0x61, count: count))) == digest, "\(count)")
        }
    }
}

@Suite struct RFC4648_Base64 {
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")])
    func encodesAndDecodesRFCVectors(_ plain: String, _ encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test(arguments: ["Zg", "Zg=", "Zh==", "Zm9=", "Z===", "Zm9v!A==", "=Zm9", "Zg==Zg=="])
    func rejectsNonCanonicalText(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }
}

@Suite struct RFC6455_4_Handshake {
    @Test func computesTheRFCAcceptValue() {
        #expect(Handshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func makesSixteenByteKeys() {
        let key = Handshake.makeKey()
        #expect(Base64.decode(key)?.count == 16)
        #expect(Handshake.makeKey() != key)
    }

    @Test func clientRequestIsAcceptedAndTheResponseValidated() throws {
        let client = ClientHandshake(
            host: "example.com", target: "/chat", key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocols: ["chat", "superchat"],
            extensions: [ExtensionOffer(name: "permessage-deflate", parameters: [ExtensionParameter("client_max_window_bits")])],
            origin: "http://example.com")
        let requestBytes = client.request()
        let head = try #require(try HandshakeHead.parse(requestBytes))
        #expect(head.startLine == "GET /chat HTTP/1.1")
        #expect(head.length == requestBytes.count)
        let request = try ServerHandshake.validateRequest(head: head)
        #expect(request.subprotocols == ["chat", "superchat"])
        #expect(request.extensions == client.extensions)
        #expect(request.origin == "http://example.com")
        let responseBytes = ServerHandshake.response(for: request, subprotocol: "chat", extensions: [ExtensionOffer(name: "permessage-deflate")])
        let text = String(decoding: responseBytes, as: UTF8.self)
        #expect(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        let accepted = try client.validateResponse(head: try #require(try HandshakeHead.parse(responseBytes)))
        #expect(accepted.subprotocol == "chat")
        #expect(accepted.extensions == [ExtensionOffer(name: "permessage-deflate")])
    }

    static let good: [HeaderField] = [
        HeaderField("Host", "a"), HeaderField("Upgrade", "websocket"), HeaderField("Connection", "keep-alive, Upgrade"),
        HeaderField("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), HeaderField("Sec-WebSocket-Version", "13"),
    ]

    static func replacing(_ name: String, with value: String?) -> [HeaderField] {
        var fields = good.filter { $0.name != name }
        if let value { fields.append(HeaderField(name, value)) }
        return fields
    }

    @Test func serverRejectsEachMissingRequirement() {
        #expect(throws: HandshakeError.methodNotGet) { try ServerHandshake.validateRequest(method: "POST", target: "/", version: (1, 1), fields: Self.good) }
        #expect(throws: HandshakeError.httpVersionTooOld) { try ServerHandshake.validateRequest(method: "GET", target: "/", version: (1, 0), fields: Self.good) }
        let cases: [(String, String?, HandshakeError)] = [
            ("Host", nil, .missingHost), ("Upgrade", nil, .missingUpgrade), ("Upgrade", "h2c", .missingUpgrade),
            ("Connection", "keep-alive", .missingConnectionUpgrade), ("Sec-WebSocket-Key", nil, .invalidKey),
            ("Sec-WebSocket-Key", "c2hvcnQ=", .invalidKey), ("Sec-WebSocket-Key", "not base64!", .invalidKey),
            ("Sec-WebSocket-Version", "8", .unsupportedVersion), ("Sec-WebSocket-Version", nil, .unsupportedVersion),
        ]
        for (name, value, error) in cases {
            #expect(throws: error) { try ServerHandshake.validateRequest(method: "GET", target: "/", version: (1, 1), fields: Self.replacing(name, with: value)) }
        }
        #expect(throws: HandshakeError.malformedExtensions) {
            try ServerHandshake.validateRequest(method: "GET", target: "/", version: (1, 1), fields: Self.good + [HeaderField("Sec-WebSocket-Extensions", "foo; =1")])
        }
        #expect(String(decoding: ServerHandshake.versionMismatchResponse(), as: UTF8.self).contains("Sec-WebSocket-Version: 13"))
        // Case-insensitive tokens are fine.
        #expect((try? ServerHandshake.validateRequest(method: "GET", target: "/", version: (1, 1), fields: Self.replacing("Upgrade", with: "WebSocket"))) != nil)
    }

    @Test func clientRejectsBadResponses() throws {
        let client = ClientHandshake(host: "a", key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocols: ["chat"], extensions: [ExtensionOffer(name: "permessage-deflate")])
        let ok: [HeaderField] = [HeaderField("Upgrade", "websocket"), HeaderField("Connection", "Upgrade"), HeaderField("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
        #expect(try client.validateResponse(status: 101, fields: ok).subprotocol == nil)
        #expect(throws: HandshakeError.statusNotSwitchingProtocols(200)) { try client.validateResponse(status: 200, fields: ok) }
        #expect(throws: HandshakeError.invalidAccept) { try client.validateResponse(status: 101, fields: Array(ok.dropLast()) + [HeaderField("Sec-WebSocket-Accept", "AAAA")]) }
        #expect(throws: HandshakeError.missingUpgrade) { try client.validateResponse(status: 101, fields: Array(ok.dropFirst())) }
        #expect(throws: HandshakeError.unexpectedSubprotocol) { try client.validateResponse(status: 101, fields: ok + [HeaderField("Sec-WebSocket-Protocol", "other")]) }
        #expect(throws: HandshakeError.unexpectedSubprotocol) { try client.validateResponse(status: 101, fields: ok + [HeaderField("Sec-WebSocket-Protocol", "chat, chat")]) }
        #expect(throws: HandshakeError.unexpectedExtension) { try client.validateResponse(status: 101, fields: ok + [HeaderField("Sec-WebSocket-Extensions", "x-webkit-deflate-frame")]) }
    }
}

/// RFC 6455 §9.1 extension header grammar.
@Suite struct RFC6455_9_1_ExtensionGrammar {
    @Test func parsesParametersQuotedValuesAndSeveralFields() throws {
        let offers = try ExtensionOffer.parse([
            "permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\" , permessage-deflate",
            "foo;bar=baz,,",
        ])
        #expect(offers == [
            ExtensionOffer(name: "permessage-deflate", parameters: [ExtensionParameter("client_max_window_bits"), ExtensionParameter("server_max_window_bits", "10")]),
            ExtensionOffer(name: "permessage-deflate"),
            ExtensionOffer(name: "foo", parameters: [ExtensionParameter("bar", "baz")]),
        ])
        #expect(ExtensionOffer.headerValue(offers) == "permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate, foo; bar=baz")
    }

    @Test(arguments: ["; x", "foo;", "foo; a=", "foo bar", "foo; a=\"b c\"", "foo; a=\"unterminated", "foo; a=\"\"", "fo@o", "foo; a=b=c", "foo; \"q\""])
    func rejectsOffTheGrammar(_ value: String) {
        #expect(throws: HandshakeError.malformedExtensions) { try ExtensionOffer.parse([value]) }
    }

    @Test func unescapesQuotedPairs() throws {
        #expect(try ExtensionOffer.parse(["foo; a=\"1\\2\""]) == [ExtensionOffer(name: "foo", parameters: [ExtensionParameter("a", "12")])])
    }
}
