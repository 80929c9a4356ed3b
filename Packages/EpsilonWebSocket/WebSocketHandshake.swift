@_spi(EpsilonInternal) import EpsilonBytes

/// Why an opening handshake was refused (RFC 6455 §4).
///
/// A server that finds one of these in a request answers with ``response()``: `400 Bad
/// Request`, or `426 Upgrade Required` naming version 13 when only the version is wrong.
public enum WebSocketHandshakeError: Error, Hashable, Sendable {
    /// The request method is not GET (§4.2.1 item 1).
    case methodNotGet
    /// The HTTP version is below 1.1 (§4.2.1 item 1).
    case httpVersionTooOld
    /// No Host field, or several (§4.2.1 item 2).
    case missingHost
    /// Upgrade does not list `websocket` (§4.2.1 item 3, §4.1 item 2).
    case missingUpgrade
    /// The Connection field does not list `Upgrade` (§4.2.1 item 4, §4.1 item 3).
    case missingConnectionUpgrade
    /// Sec-WebSocket-Key is absent, repeated, or not 16 bytes in base64 (§4.2.1 item 5).
    case invalidKey
    /// Sec-WebSocket-Version is not 13 (§4.2.1 item 6); answered with 426 (§4.2.2 item 4).
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
    /// A field list (Sec-WebSocket-Protocol, Connection, Upgrade) is off the list grammar.
    case malformedHeader

    /// The status a server answers a refused request with: 426 when the version is not 13
    /// (RFC 6455 §4.2.2 item 4), 400 for every other request error (§4.2.1), nil for the
    /// errors a client finds in a response.
    public var responseStatus: Int? {
        switch self {
        case .unsupportedVersion: return 426
        case .methodNotGet, .httpVersionTooOld, .missingHost, .missingUpgrade, .missingConnectionUpgrade,
            .invalidKey, .malformedExtensions, .malformedHeader:
            return 400
        case .statusNotSwitchingProtocols, .invalidAccept, .unexpectedSubprotocol, .unexpectedExtension:
            return nil
        }
    }

    /// The fields of that response besides framing: `Sec-WebSocket-Version: 13` for 426, none for 400.
    public var responseFields: [WebSocketHeaderField] {
        responseStatus == 426 ? [WebSocketHeaderField("Sec-WebSocket-Version", "13")] : []
    }

    /// The whole response head a server sends for this refusal (with `Content-Length: 0`),
    /// or nil for errors found in a response.
    public func response() -> [UInt8]? {
        guard let status = responseStatus else { return nil }
        var text = status == 426 ? "HTTP/1.1 426 Upgrade Required\r\n" : "HTTP/1.1 400 Bad Request\r\n"
        for field in responseFields { text += "\(field.name): \(field.value)\r\n" }
        text += "Content-Length: 0\r\n\r\n"
        return Array(text.utf8)
    }
}

/// A header field the handshake produces, as a name and a value.
public struct WebSocketHeaderField: Hashable, Sendable {
    /// The field name.
    public var name: String
    /// The field value, without surrounding whitespace.
    public var value: String
    /// Creates a field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The pure functions of the opening handshake shared by both sides.
public enum WebSocketHandshake {
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

    /// Whether a field name equals `name` (lower case ASCII), ignoring case.
    static func isField(_ field: some Collection<UInt8>, _ name: StaticString) -> Bool {
        let bytes = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return ASCII.equalsIgnoringCase(field, bytes)
    }

    /// Calls `body` with each element of a comma-separated field value (RFC 9110 §5.6.1),
    /// whitespace trimmed, empty elements skipped. Elements must be tokens, or
    /// `token/token` with `allowsVersion` (Upgrade, RFC 9110 §7.8).
    ///
    /// - Returns: false when an element is off that grammar.
    static func forEachElement<Value: Collection<UInt8>>(of value: Value, allowsVersion: Bool, _ body: (Value.SubSequence) -> Void) -> Bool {
        var start = value.startIndex
        while true {
            let end = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
            var element = value[start..<end]
            while let first = element.first, ASCII.isWhitespace(first) { element = element.dropFirst() }
            // Forward-only collections: cut after the last byte that is not whitespace.
            var contentEnd = element.startIndex
            var index = element.startIndex
            while index != element.endIndex {
                let next = element.index(after: index)
                if !ASCII.isWhitespace(element[index]) { contentEnd = next }
                index = next
            }
            element = element[..<contentEnd]
            if !element.isEmpty {
                guard isListToken(element, allowsVersion: allowsVersion) else { return false }
                body(element)
            }
            guard end != value.endIndex else { return true }
            start = value.index(after: end)
        }
    }

    static func isListToken(_ element: some Collection<UInt8>, allowsVersion: Bool) -> Bool {
        guard let slash = element.firstIndex(of: UInt8(ascii: "/")) else { return ASCII.isToken(element) }
        return allowsVersion && ASCII.isToken(element[..<slash]) && ASCII.isToken(element[element.index(after: slash)...])
    }

    /// Whether a list field value names `token` (ASCII case-insensitive); nil when off the grammar.
    static func value(_ value: some Collection<UInt8>, lists token: StaticString, allowsVersion: Bool = false) -> Bool? {
        var found = false
        let ok = forEachElement(of: value, allowsVersion: allowsVersion) { element in
            if isField(element, token) { found = true }
        }
        return ok ? found : nil
    }
}

/// The Upgrade and Connection fields, which both sides check (RFC 6455 §4.1 items 2–3,
/// §4.2.1 items 3–4).
struct UpgradeFields {
    var upgrade = false
    var connection = false

    /// Takes the field if it is Upgrade or Connection; returns false for any other field.
    mutating func take(_ name: some Collection<UInt8>, _ value: some Collection<UInt8>) throws(WebSocketHandshakeError) -> Bool {
        if WebSocketHandshake.isField(name, "upgrade") {
            guard let listed = WebSocketHandshake.value(value, lists: "websocket", allowsVersion: true) else { throw .malformedHeader }
            upgrade = upgrade || listed
        } else if WebSocketHandshake.isField(name, "connection") {
            guard let listed = WebSocketHandshake.value(value, lists: "upgrade") else { throw .malformedHeader }
            connection = connection || listed
        } else {
            return false
        }
        return true
    }

    /// Throws unless Upgrade listed `websocket` and Connection listed `upgrade`.
    func check() throws(WebSocketHandshakeError) {
        guard upgrade else { throw .missingUpgrade }
        guard connection else { throw .missingConnectionUpgrade }
    }
}

/// The client's side of the opening handshake (RFC 6455 §4.1): builds the request, checks the response.
public struct WebSocketClientHandshake: Hashable, Sendable {
    /// The Host header value.
    public var host: String
    /// The request target, e.g. `/chat`.
    public var target: String
    /// The Sec-WebSocket-Key (see ``WebSocketHandshake/makeKey()``).
    public var key: String
    /// Subprotocols offered, in order of preference.
    public var subprotocols: [String]
    /// Extensions offered, in order of preference.
    public var extensions: [WebSocketExtensionOffer]
    /// The Origin header, for browser-like clients.
    public var origin: String?
    /// Further header fields to send.
    public var extraFields: [WebSocketHeaderField]

    /// The outcome of a successful handshake.
    public struct Accepted: Hashable, Sendable {
        /// The subprotocol the server chose, if any.
        public var subprotocol: String?
        /// The extensions the server accepted, with their response parameters, in order.
        public var extensions: [WebSocketExtensionOffer]
    }

    /// Creates a client handshake.
    public init(host: String, target: String = "/", key: String = WebSocketHandshake.makeKey(), subprotocols: [String] = [], extensions: [WebSocketExtensionOffer] = [], origin: String? = nil, extraFields: [WebSocketHeaderField] = []) {
        self.host = host
        self.target = target
        self.key = key
        self.subprotocols = subprotocols
        self.extensions = extensions
        self.origin = origin
        self.extraFields = extraFields
    }

    /// The request's header fields.
    public var requestFields: [WebSocketHeaderField] {
        var fields = [
            WebSocketHeaderField("Host", host),
            WebSocketHeaderField("Upgrade", "websocket"),
            WebSocketHeaderField("Connection", "Upgrade"),
            WebSocketHeaderField("Sec-WebSocket-Key", key),
            WebSocketHeaderField("Sec-WebSocket-Version", "13"),
        ]
        if let origin { fields.append(WebSocketHeaderField("Origin", origin)) }
        if !subprotocols.isEmpty { fields.append(WebSocketHeaderField("Sec-WebSocket-Protocol", subprotocols.joined(separator: ", "))) }
        if !extensions.isEmpty { fields.append(WebSocketHeaderField("Sec-WebSocket-Extensions", WebSocketExtensionOffer.headerValue(extensions))) }
        return fields + extraFields
    }

    /// The whole HTTP/1.1 request head.
    public func request() -> [UInt8] {
        var text = "GET \(target) HTTP/1.1\r\n"
        for field in requestFields { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Checks the server's response head, as an HTTP/1.1 parser reports it (RFC 6455 §4.1,
    /// client requirements 1–6).
    ///
    /// - Parameters:
    ///   - status: the response's status code.
    ///   - fields: the response's fields in order, as (name, value) byte collections: slices
    ///     of the parser's buffer (`bytes[field.name]`), `string.utf8`, arrays.
    /// Extension parameters are returned as the server sent them; check them with the
    /// extension's own rules (e.g. permessage-deflate's response validation).
    public func validateResponse<Fields: Sequence, Name: Collection<UInt8>, Value: Collection<UInt8>>(status: Int, fields: Fields) throws(WebSocketHandshakeError) -> Accepted
    where Fields.Element == (Name, Value) {
        guard status == 101 else { throw .statusNotSwitchingProtocols(status) }
        var upgrade = UpgradeFields()
        var accepts = 0
        var acceptMatches = false
        var chosen: [String] = []
        var responseExtensions: [WebSocketExtensionOffer] = []
        let expected = Array(WebSocketHandshake.acceptValue(forKey: key).utf8)
        for (name, value) in fields {
            if try upgrade.take(name, value) {
                continue
            } else if WebSocketHandshake.isField(name, "sec-websocket-accept") {
                accepts += 1
                acceptMatches = value.elementsEqual(expected)
            } else if WebSocketHandshake.isField(name, "sec-websocket-extensions") {
                try WebSocketExtensionOffer.parse(value, into: &responseExtensions)
            } else if WebSocketHandshake.isField(name, "sec-websocket-protocol") {
                let ok = WebSocketHandshake.forEachElement(of: value, allowsVersion: false) { chosen.append(String(decoding: $0, as: UTF8.self)) }
                guard ok else { throw .malformedHeader }
            }
        }
        try upgrade.check()
        guard accepts == 1, acceptMatches else { throw .invalidAccept }
        for ext in responseExtensions where !extensions.contains(where: { ASCII.equalsIgnoringCase($0.name, ext.name) }) {
            throw .unexpectedExtension
        }
        guard chosen.count <= 1 else { throw .unexpectedSubprotocol }
        if let protocolName = chosen.first, !subprotocols.contains(protocolName) { throw .unexpectedSubprotocol }
        return Accepted(subprotocol: chosen.first, extensions: responseExtensions)
    }

    /// Checks the server's response given as strings (see ``validateResponse(status:fields:)-(_,Fields)``).
    public func validateResponse(status: Int, fields: some Sequence<(String, String)>) throws(WebSocketHandshakeError) -> Accepted {
        try validateResponse(status: status, fields: fields.lazy.map { ($0.0.utf8, $0.1.utf8) })
    }
}

/// The server's side of the opening handshake (RFC 6455 §4.2): checks a request head that an
/// HTTP/1.1 parser produced, builds the response.
public enum WebSocketServerHandshake {
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
        public var extensions: [WebSocketExtensionOffer]
    }

    /// Checks a client's opening request head (RFC 6455 §4.2.1) in one pass over its fields.
    ///
    /// The input is what an HTTP/1.1 parser reports, without converting it: byte collections
    /// for the method and target, the version numbers, and the fields in order as (name,
    /// value) pairs. With `HTTP1Parser` and its buffer `bytes`:
    ///
    /// ```swift
    /// let request = try WebSocketServerHandshake.validateRequest(
    ///     method: bytes[head.method], target: bytes[head.target],
    ///     version: (Int(head.version.major), Int(head.version.minor)),
    ///     fields: parser.fields.lazy.map { (bytes[$0.name], bytes[$0.value]) })
    /// ```
    ///
    /// Only the values the result keeps are copied (target, host, key, origin, offers).
    /// - Throws: a ``WebSocketHandshakeError``; answer the client with its
    ///   ``WebSocketHandshakeError/response()``.
    public static func validateRequest<Fields: Sequence, Name: Collection<UInt8>, Value: Collection<UInt8>>(
        method: some Collection<UInt8>, target: some Collection<UInt8>, version: (major: Int, minor: Int), fields: Fields
    ) throws(WebSocketHandshakeError) -> Request where Fields.Element == (Name, Value) {
        guard method.elementsEqual("GET".utf8) else { throw .methodNotGet }
        guard version.major > 1 || (version.major == 1 && version.minor >= 1) else { throw .httpVersionTooOld }
        var hosts = 0
        var host = ""
        var upgrade = UpgradeFields()
        var keys = 0
        var key = ""
        var versions = 0
        var versionIs13 = false
        var origin: String?
        var subprotocols: [String] = []
        var extensions: [WebSocketExtensionOffer] = []
        for (name, value) in fields {
            if try upgrade.take(name, value) {
                continue
            } else if WebSocketHandshake.isField(name, "host") {
                hosts += 1
                host = String(decoding: value, as: UTF8.self)
            } else if WebSocketHandshake.isField(name, "sec-websocket-key") {
                keys += 1
                key = String(decoding: value, as: UTF8.self)
            } else if WebSocketHandshake.isField(name, "sec-websocket-version") {
                versions += 1
                versionIs13 = value.elementsEqual("13".utf8)
            } else if WebSocketHandshake.isField(name, "origin") {
                if origin == nil { origin = String(decoding: value, as: UTF8.self) }
            } else if WebSocketHandshake.isField(name, "sec-websocket-protocol") {
                let ok = WebSocketHandshake.forEachElement(of: value, allowsVersion: false) { subprotocols.append(String(decoding: $0, as: UTF8.self)) }
                guard ok else { throw .malformedHeader }
            } else if WebSocketHandshake.isField(name, "sec-websocket-extensions") {
                try WebSocketExtensionOffer.parse(value, into: &extensions)
            }
        }
        guard hosts == 1 else { throw .missingHost }
        try upgrade.check()
        guard keys == 1, let decoded = Base64.decode(key), decoded.count == 16 else { throw .invalidKey }
        guard versions == 1, versionIs13 else { throw .unsupportedVersion }
        return Request(
            target: String(decoding: target, as: UTF8.self), host: host, key: key, origin: origin,
            subprotocols: subprotocols, extensions: extensions
        )
    }

    /// Checks a request head given as strings (see the byte-collection variant).
    public static func validateRequest(method: String, target: String, version: (major: Int, minor: Int), fields: some Sequence<(String, String)>) throws(WebSocketHandshakeError) -> Request {
        try validateRequest(method: method.utf8, target: target.utf8, version: version, fields: fields.lazy.map { ($0.0.utf8, $0.1.utf8) })
    }

    /// The 101 response's header fields for `request`.
    ///
    /// - Parameters:
    ///   - subprotocol: one of `request.subprotocols`, or nil.
    ///   - extensions: the accepted extensions with response parameters (see the extension's
    ///     negotiation), in the order they apply.
    public static func responseFields(for request: Request, subprotocol: String? = nil, extensions: [WebSocketExtensionOffer] = []) -> [WebSocketHeaderField] {
        var fields = [
            WebSocketHeaderField("Upgrade", "websocket"),
            WebSocketHeaderField("Connection", "Upgrade"),
            WebSocketHeaderField("Sec-WebSocket-Accept", WebSocketHandshake.acceptValue(forKey: request.key)),
        ]
        if let subprotocol { fields.append(WebSocketHeaderField("Sec-WebSocket-Protocol", subprotocol)) }
        if !extensions.isEmpty { fields.append(WebSocketHeaderField("Sec-WebSocket-Extensions", WebSocketExtensionOffer.headerValue(extensions))) }
        return fields
    }

    /// The whole `101 Switching Protocols` response head.
    public static func response(for request: Request, subprotocol: String? = nil, extensions: [WebSocketExtensionOffer] = []) -> [UInt8] {
        var text = "HTTP/1.1 101 Switching Protocols\r\n"
        for field in responseFields(for: request, subprotocol: subprotocol, extensions: extensions) {
            text += "\(field.name): \(field.value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }
}
