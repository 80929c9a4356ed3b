/// Why an opening handshake was refused (RFC 6455 §4).
public enum HandshakeError: Error, Hashable, Sendable {
    /// The request method is not GET (§4.2.1 item 1).
    case methodNotGet
    /// The HTTP version is below 1.1 (§4.2.1 item 1).
    case httpVersionTooOld
    /// No Host header (§4.2.1 item 2).
    case missingHost
    /// Upgrade does not list `websocket` (§4.2.1 item 3, §4.1 item 2).
    case missingUpgrade
    /// Connection does not list `Upgrade` (§4.2.1 item 4, §4.1 item 3).
    case missingConnectionUpgrade
    /// Sec-WebSocket-Key is absent, repeated, or not 16 bytes in base64 (§4.2.1 item 5).
    case invalidKey
    /// Sec-WebSocket-Version is not 13 (§4.2.1 item 6); answer with ``ServerHandshake/versionMismatchResponse()``.
    case unsupportedVersion
    /// The response status is not 101 (§4.1 item 1).
    case statusNotSwitchingProtocols(Int)
    /// Sec-WebSocket-Accept is absent or wrong (§4.1 item 4).
    case invalidAccept
    /// The server chose a subprotocol that was not offered, or several (§4.1 item 6).
    case unexpectedSubprotocol
    /// The server answered with an extension that was not offered (§4.1 item 5).
    case unexpectedExtension
    /// A Sec-WebSocket-Extensions value is off the §9.1 grammar.
    case malformedExtensions
    /// A header list (Sec-WebSocket-Protocol, Connection, Upgrade) is off the token-list grammar.
    case malformedHeader
    /// The HTTP head could not be parsed.
    case malformedHead
}

/// A header field as a name and a value.
public struct HeaderField: Hashable, Sendable {
    /// The field name (compared case-insensitively).
    public var name: String
    /// The field value, without surrounding whitespace.
    public var value: String
    /// Creates a field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension [HeaderField] {
    /// All values of the fields named `name` (ASCII case-insensitive).
    public func values(named name: String) -> [String] {
        let lower = name.lowercased()
        return filter { $0.name.lowercased() == lower }.map(\.value)
    }
}

/// The pure functions of the opening handshake shared by both sides.
public enum Handshake {
    /// The GUID appended to the key (RFC 6455 §1.3).
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The Sec-WebSocket-Accept value for `key`: base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.hash(Array((key + guid).utf8)))
    }

    /// A fresh Sec-WebSocket-Key: 16 random bytes in base64 (RFC 6455 §4.1 item 7).
    public static func makeKey(using generator: inout some RandomNumberGenerator) -> String {
        var bytes: [UInt8] = []
        for _ in 0..<16 { bytes.append(UInt8.random(in: 0...255, using: &generator)) }
        return Base64.encode(bytes)
    }

    /// A fresh Sec-WebSocket-Key from the system's random source.
    public static func makeKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return makeKey(using: &generator)
    }

    static func lists(_ headers: [HeaderField], _ name: String, token: String) throws(HandshakeError) -> Bool {
        guard let tokens = TokenScanner.tokenList(headers.values(named: name)) else { throw .malformedHeader }
        return tokens.contains { $0.lowercased() == token }
    }
}

/// An HTTP/1.1 message head: its start line and header fields.
///
/// A small strict parser for the handshake's own needs (tests, tooling, embedders without an
/// HTTP machine); in the stack the HTTP/1.1 machine parses heads and hands over the fields.
public struct HandshakeHead: Hashable, Sendable {
    /// The start line (`GET /chat HTTP/1.1` or `HTTP/1.1 101 Switching Protocols`).
    public var startLine: String
    /// The header fields in order.
    public var fields: [HeaderField]
    /// The head's length in bytes, through the blank line.
    public var length: Int

    /// Parses a head from the front of `bytes`.
    ///
    /// - Returns: nil if the blank line that ends the head has not arrived yet.
    /// - Throws: ``HandshakeError/malformedHead`` for a line without a colon or bare LF.
    public static func parse(_ bytes: some Collection<UInt8>) throws(HandshakeError) -> HandshakeHead? {
        let data = Array(bytes)
        var lines: [String] = []
        var start = 0
        var i = 0
        while i + 1 < data.count {
            if data[i] == 13 && data[i + 1] == 10 {
                if i == start {
                    guard let first = lines.first else { throw .malformedHead }
                    var fields: [HeaderField] = []
                    for line in lines.dropFirst() {
                        guard let colon = line.firstIndex(of: ":") else { throw .malformedHead }
                        let name = String(line[..<colon])
                        guard !name.isEmpty, name.utf8.allSatisfy(TokenScanner.isTokenByte) else { throw .malformedHead }
                        let value = line[line.index(after: colon)...].trimmingWhitespace()
                        fields.append(HeaderField(name, value))
                    }
                    return HandshakeHead(startLine: first, fields: fields, length: i + 2)
                }
                lines.append(String(decoding: data[start..<i], as: UTF8.self))
                i += 2
                start = i
                continue
            }
            if data[i] == 10 { throw .malformedHead }
            i += 1
        }
        return nil
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

/// The client's side of the opening handshake (RFC 6455 §4.1): builds the request, checks the response.
public struct ClientHandshake: Hashable, Sendable {
    /// The Host header value.
    public var host: String
    /// The request target, e.g. `/chat`.
    public var target: String
    /// The Sec-WebSocket-Key (see ``Handshake/makeKey()``).
    public var key: String
    /// Subprotocols offered, in order of preference.
    public var subprotocols: [String]
    /// Extensions offered, in order of preference.
    public var extensions: [ExtensionOffer]
    /// The Origin header, for browser-like clients.
    public var origin: String?
    /// Further header fields to send.
    public var extraFields: [HeaderField]

    /// The outcome of a successful handshake.
    public struct Accepted: Hashable, Sendable {
        /// The subprotocol the server chose, if any.
        public var subprotocol: String?
        /// The extensions the server accepted, with their response parameters, in order.
        public var extensions: [ExtensionOffer]
    }

    /// Creates a client handshake.
    public init(host: String, target: String = "/", key: String = Handshake.makeKey(), subprotocols: [String] = [], extensions: [ExtensionOffer] = [], origin: String? = nil, extraFields: [HeaderField] = []) {
        self.host = host
        self.target = target
        self.key = key
        self.subprotocols = subprotocols
        self.extensions = extensions
        self.origin = origin
        self.extraFields = extraFields
    }

    /// The request's header fields.
    public var requestFields: [HeaderField] {
        var fields = [
            HeaderField("Host", host),
            HeaderField("Upgrade", "websocket"),
            HeaderField("Connection", "Upgrade"),
            HeaderField("Sec-WebSocket-Key", key),
            HeaderField("Sec-WebSocket-Version", "13"),
        ]
        if let origin { fields.append(HeaderField("Origin", origin)) }
        if !subprotocols.isEmpty { fields.append(HeaderField("Sec-WebSocket-Protocol", subprotocols.joined(separator: ", "))) }
        if !extensions.isEmpty { fields.append(HeaderField("Sec-WebSocket-Extensions", ExtensionOffer.headerValue(extensions))) }
        return fields + extraFields
    }

    /// The whole HTTP/1.1 request head.
    public func request() -> [UInt8] {
        var text = "GET \(target) HTTP/1.1\r\n"
        for field in requestFields { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Checks the server's response (RFC 6455 §4.1, client requirements 1–6).
    ///
    /// Extension parameters are returned as the server sent them; check them with the
    /// extension's own rules (e.g. permessage-deflate's response validation).
    public func validateResponse(status: Int, fields: [HeaderField]) throws(HandshakeError) -> Accepted {
        guard status == 101 else { throw .statusNotSwitchingProtocols(status) }
        guard try Handshake.lists(fields, "Upgrade", token: "websocket") else { throw .missingUpgrade }
        guard try Handshake.lists(fields, "Connection", token: "upgrade") else { throw .missingConnectionUpgrade }
        let accepts = fields.values(named: "Sec-WebSocket-Accept")
        guard accepts.count == 1, accepts[0] == Handshake.acceptValue(forKey: key) else { throw .invalidAccept }
        let responseExtensions = try ExtensionOffer.parse(fields.values(named: "Sec-WebSocket-Extensions"))
        let offeredNames = Set(extensions.map { $0.name.lowercased() })
        for ext in responseExtensions where !offeredNames.contains(ext.name.lowercased()) {
            throw .unexpectedExtension
        }
        guard let chosen = TokenScanner.tokenList(fields.values(named: "Sec-WebSocket-Protocol")) else { throw .malformedHeader }
        guard chosen.count <= 1 else { throw .unexpectedSubprotocol }
        if let protocolName = chosen.first, !subprotocols.contains(protocolName) { throw .unexpectedSubprotocol }
        return Accepted(subprotocol: chosen.first, extensions: responseExtensions)
    }
}

/// The server's side of the opening handshake (RFC 6455 §4.2): checks the request, builds the response.
public enum ServerHandshake {
    /// What a valid client request asks for.
    public struct Request: Hashable, Sendable {
        /// The request target.
        public var target: String
        /// The Host header.
        public var host: String
        /// The Sec-WebSocket-Key.
        public var key: String
        /// The Origin header, if any.
        public var origin: String?
        /// The subprotocols offered, in the client's order of preference.
        public var subprotocols: [String]
        /// The extension offers, in the client's order of preference.
        public var extensions: [ExtensionOffer]
    }

    /// Checks a client's opening request (RFC 6455 §4.2.1).
    ///
    /// - Parameters:
    ///   - method: the request method.
    ///   - target: the request target.
    ///   - version: the HTTP version as `(major, minor)`.
    ///   - fields: the header fields.
    public static func validateRequest(method: String, target: String, version: (major: Int, minor: Int), fields: [HeaderField]) throws(HandshakeError) -> Request {
        guard method == "GET" else { throw .methodNotGet }
        guard version.major > 1 || (version.major == 1 && version.minor >= 1) else { throw .httpVersionTooOld }
        let hosts = fields.values(named: "Host")
        guard hosts.count == 1 else { throw .missingHost }
        guard try Handshake.lists(fields, "Upgrade", token: "websocket") else { throw .missingUpgrade }
        guard try Handshake.lists(fields, "Connection", token: "upgrade") else { throw .missingConnectionUpgrade }
        let keys = fields.values(named: "Sec-WebSocket-Key")
        guard keys.count == 1, let decoded = Base64.decode(keys[0]), decoded.count == 16 else { throw .invalidKey }
        let versions = fields.values(named: "Sec-WebSocket-Version")
        guard versions.count == 1, versions[0] == "13" else { throw .unsupportedVersion }
        guard let subprotocols = TokenScanner.tokenList(fields.values(named: "Sec-WebSocket-Protocol")) else { throw .malformedHeader }
        let extensions = try ExtensionOffer.parse(fields.values(named: "Sec-WebSocket-Extensions"))
        return Request(
            target: target, host: hosts[0], key: keys[0], origin: fields.values(named: "Origin").first,
            subprotocols: subprotocols, extensions: extensions
        )
    }

    /// Checks a request from its raw head (start line `GET target HTTP/1.1`).
    public static func validateRequest(head: HandshakeHead) throws(HandshakeError) -> Request {
        let parts = head.startLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/") else { throw .malformedHead }
        let numbers = parts[2].dropFirst(5).split(separator: ".")
        guard numbers.count == 2, let major = Int(numbers[0]), let minor = Int(numbers[1]) else { throw .malformedHead }
        return try validateRequest(method: String(parts[0]), target: String(parts[1]), version: (major, minor), fields: head.fields)
    }

    /// The 101 response's header fields for `request`.
    ///
    /// - Parameters:
    ///   - subprotocol: one of `request.subprotocols`, or nil.
    ///   - extensions: the accepted extensions with response parameters (see the extension's
    ///     negotiation), in the order they apply.
    public static func responseFields(for request: Request, subprotocol: String? = nil, extensions: [ExtensionOffer] = []) -> [HeaderField] {
        var fields = [
            HeaderField("Upgrade", "websocket"),
            HeaderField("Connection", "Upgrade"),
            HeaderField("Sec-WebSocket-Accept", Handshake.acceptValue(forKey: request.key)),
        ]
        if let subprotocol { fields.append(HeaderField("Sec-WebSocket-Protocol", subprotocol)) }
        if !extensions.isEmpty { fields.append(HeaderField("Sec-WebSocket-Extensions", ExtensionOffer.headerValue(extensions))) }
        return fields
    }

    /// The whole `101 Switching Protocols` response head.
    public static func response(for request: Request, subprotocol: String? = nil, extensions: [ExtensionOffer] = []) -> [UInt8] {
        var text = "HTTP/1.1 101 Switching Protocols\r\n"
        for field in responseFields(for: request, subprotocol: subprotocol, extensions: extensions) {
            text += "\(field.name): \(field.value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// The `426 Upgrade Required` response naming version 13 (RFC 6455 §4.2.2 item 4).
    public static func versionMismatchResponse() -> [UInt8] {
        Array("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n".utf8)
    }
}

extension ClientHandshake {
    /// Checks a response from its raw head (start line `HTTP/1.1 101 ...`).
    public func validateResponse(head: HandshakeHead) throws(HandshakeError) -> Accepted {
        let parts = head.startLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else { throw .malformedHead }
        return try validateResponse(status: status, fields: head.fields)
    }
}
