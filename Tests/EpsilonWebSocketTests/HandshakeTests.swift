import EpsilonTestHead
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
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func makesSixteenByteKeys() {
        let key = WebSocketHandshake.makeKey()
        #expect(Base64.decode(key)?.count == 16)
        #expect(WebSocketHandshake.makeKey() != key)
    }

    @Test func clientRequestIsAcceptedAndTheResponseValidated() throws {
        let client = WebSocketClientHandshake(
            host: "example.com", target: "/chat", key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocols: ["chat", "superchat"],
            extensions: [WebSocketExtensionOffer(name: "permessage-deflate", parameters: [WebSocketExtensionParameter("client_max_window_bits")])],
            origin: "http://example.com")
        let head = try #require(TestHead(client.request()))
        #expect(head.startLine == ["GET", "/chat", "HTTP/1.1"])
        let request = try WebSocketServerHandshake.validateRequest(method: "GET", target: head.startLine[1], version: (1, 1), fields: head.fields)
        #expect(request.target == "/chat")
        #expect(request.host == "example.com")
        #expect(request.subprotocols == ["chat", "superchat"])
        #expect(request.extensions == client.extensions)
        #expect(request.origin == "http://example.com")
        let responseBytes = WebSocketServerHandshake.response(for: request, subprotocol: "chat", extensions: [WebSocketExtensionOffer(name: "permessage-deflate")])
        let text = String(decoding: responseBytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        let response = try #require(TestHead(responseBytes))
        let accepted = try client.validateResponse(status: Int(response.startLine[1])!, fields: response.fields)
        #expect(accepted.subprotocol == "chat")
        #expect(accepted.extensions == [WebSocketExtensionOffer(name: "permessage-deflate")])
    }

    @Test func takesFieldsAsByteSlicesWithoutConverting() throws {
        let head = Array("GET /x HTTP/1.1\r\nhost: a\r\nUPGRADE: WebSocket\r\nconnection: keep-alive,  upgrade \r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8)
        // Ranges into the buffer, as HTTP1Parser reports them.
        let ranges: [(Range<Int>, Range<Int>)] = [(17..<21, 23..<24), (26..<33, 35..<44), (46..<56, 58..<79), (81..<98, 100..<124), (126..<147, 149..<151)]
        let request = try head.withUnsafeBytes { bytes throws(WebSocketHandshakeError) in
            try WebSocketServerHandshake.validateRequest(
                method: bytes[0..<3], target: bytes[4..<6], version: (1, 1),
                fields: ranges.lazy.map { (bytes[$0.0], bytes[$0.1]) })
        }
        #expect(request.target == "/x")
        #expect(request.host == "a")
        #expect(request.key == "dGhlIHNhbXBsZSBub25jZQ==")
    }

    static let good: [(String, String)] = [
        ("Host", "a"), ("Upgrade", "websocket"), ("Connection", "keep-alive, Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
    ]

    static func replacing(_ name: String, with value: String?) -> [(String, String)] {
        var fields = good.filter { $0.0 != name }
        if let value { fields.append((name, value)) }
        return fields
    }

    static let refusals: [(String, String?, WebSocketHandshakeError)] = [
        ("Host", nil, .missingHost), ("Upgrade", nil, .missingUpgrade), ("Upgrade", "h2c", .missingUpgrade),
        ("Upgrade", "web socket", .malformedHeader), ("Connection", "keep-alive", .missingConnectionUpgrade),
        ("Sec-WebSocket-Key", nil, .invalidKey), ("Sec-WebSocket-Key", "c2hvcnQ=", .invalidKey),
        ("Sec-WebSocket-Key", "not base64!", .invalidKey), ("Sec-WebSocket-Extensions", "foo; =1", .malformedExtensions),
        ("Sec-WebSocket-Protocol", "chat, a b", .malformedHeader),
        ("Sec-WebSocket-Version", "8", .unsupportedVersion), ("Sec-WebSocket-Version", nil, .unsupportedVersion),
    ]

    @Test(arguments: refusals)
    func serverRefusesEachMissingRequirementWithTheRightResponse(_ name: String, _ value: String?, _ error: WebSocketHandshakeError) throws {
        var fields = Self.replacing(name, with: value)
        if name == "Sec-WebSocket-Protocol" { fields = Self.good + [(name, value!)] }
        #expect(throws: error) { try WebSocketServerHandshake.validateRequest(method: "GET", target: "/", version: (1, 1), fields: fields) }
        let response = String(decoding: try #require(error.response()), as: UTF8.self)
        if error == .unsupportedVersion {
            #expect(error.responseStatus == 426)
            #expect(response == "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n")
        } else {
            #expect(error.responseStatus == 400)
            #expect(response == "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        }
    }

    @Test func serverRefusesOtherMethodsAndOldVersionsWith400() {
        #expect(throws: WebSocketHandshakeError.methodNotGet) { try WebSocketServerHandshake.validateRequest(method: "POST", target: "/", version: (1, 1), fields: Self.good) }
        #expect(throws: WebSocketHandshakeError.httpVersionTooOld) { try WebSocketServerHandshake.validateRequest(method: "GET", target: "/", version: (1, 0), fields: Self.good) }
        #expect(WebSocketHandshakeError.methodNotGet.responseStatus == 400)
        #expect(WebSocketHandshakeError.httpVersionTooOld.responseStatus == 400)
        #expect(WebSocketHandshakeError.invalidAccept.response() == nil)
        // Case-insensitive names and tokens are fine.
        #expect((try? WebSocketServerHandshake.validateRequest(method: "GET", target: "/", version: (1, 1), fields: Self.replacing("Upgrade", with: "WebSocket"))) != nil)
        #expect((try? WebSocketServerHandshake.validateRequest(method: "GET", target: "/", version: (2, 0), fields: Self.good.map { ($0.0.uppercased(), $0.1) })) != nil)
    }

    @Test func clientRejectsBadResponses() throws {
        let client = WebSocketClientHandshake(host: "a", key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocols: ["chat"], extensions: [WebSocketExtensionOffer(name: "permessage-deflate")])
        let ok: [(String, String)] = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
        #expect(try client.validateResponse(status: 101, fields: ok).subprotocol == nil)
        #expect(throws: WebSocketHandshakeError.statusNotSwitchingProtocols(200)) { try client.validateResponse(status: 200, fields: ok) }
        #expect(throws: WebSocketHandshakeError.invalidAccept) { try client.validateResponse(status: 101, fields: Array(ok.dropLast()) + [("Sec-WebSocket-Accept", "AAAA")]) }
        #expect(throws: WebSocketHandshakeError.missingUpgrade) { try client.validateResponse(status: 101, fields: Array(ok.dropFirst())) }
        #expect(throws: WebSocketHandshakeError.unexpectedSubprotocol) { try client.validateResponse(status: 101, fields: ok + [("Sec-WebSocket-Protocol", "other")]) }
        #expect(throws: WebSocketHandshakeError.unexpectedSubprotocol) { try client.validateResponse(status: 101, fields: ok + [("Sec-WebSocket-Protocol", "chat, chat")]) }
        #expect(throws: WebSocketHandshakeError.unexpectedExtension) { try client.validateResponse(status: 101, fields: ok + [("Sec-WebSocket-Extensions", "x-webkit-deflate-frame")]) }
    }
}

/// RFC 6455 §9.1 extension header grammar.
@Suite struct RFC6455_9_1_ExtensionGrammar {
    @Test func parsesParametersQuotedValuesAndSeveralFields() throws {
        let offers = try WebSocketExtensionOffer.parse([
            "permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\" , permessage-deflate",
            "foo;bar=baz,,",
        ])
        #expect(offers == [
            WebSocketExtensionOffer(name: "permessage-deflate", parameters: [WebSocketExtensionParameter("client_max_window_bits"), WebSocketExtensionParameter("server_max_window_bits", "10")]),
            WebSocketExtensionOffer(name: "permessage-deflate"),
            WebSocketExtensionOffer(name: "foo", parameters: [WebSocketExtensionParameter("bar", "baz")]),
        ])
        #expect(WebSocketExtensionOffer.headerValue(offers) == "permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate, foo; bar=baz")
    }

    @Test(arguments: ["; x", "foo;", "foo; a=", "foo bar", "foo; a=\"b c\"", "foo; a=\"unterminated", "foo; a=\"\"", "fo@o", "foo; a=b=c", "foo; \"q\""])
    func rejectsOffTheGrammar(_ value: String) {
        #expect(throws: WebSocketHandshakeError.malformedExtensions) { try WebSocketExtensionOffer.parse([value]) }
    }

    @Test func unescapesQuotedPairs() throws {
        #expect(try WebSocketExtensionOffer.parse(["foo; a=\"1\\2\""]) == [WebSocketExtensionOffer(name: "foo", parameters: [WebSocketExtensionParameter("a", "12")])])
    }
}
