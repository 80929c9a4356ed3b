@_spi(EpsilonInternal) import EpsilonBytes

/// One parameter of an extension offer or response, such as `client_max_window_bits=10`.
public struct WebSocketExtensionParameter: Hashable, Sendable {
    /// The parameter name (a token).
    public var name: String
    /// The value (a token, unquoted), or nil for a parameter without value.
    public var value: String?
    /// Creates a parameter.
    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// One element of a Sec-WebSocket-Extensions header: an extension name and its parameters.
public struct WebSocketExtensionOffer: Hashable, Sendable, CustomStringConvertible {
    /// The extension token, e.g. `permessage-deflate`.
    public var name: String
    /// The parameters in the order given.
    public var parameters: [WebSocketExtensionParameter]

    /// Creates an offer.
    public init(name: String, parameters: [WebSocketExtensionParameter] = []) {
        self.name = name
        self.parameters = parameters
    }

    /// The element as it appears in the header, e.g. `permessage-deflate; client_max_window_bits`.
    public var description: String {
        var s = name
        for p in parameters {
            s += "; " + p.name
            if let v = p.value { s += "=" + v }
        }
        return s
    }

    /// Parses header field values by the RFC 6455 §9.1 grammar.
    ///
    /// `extension-list = 1#extension`, `extension = token *(";" param)`,
    /// `param = token ["=" (token / quoted-string)]`; a quoted value must be a token once
    /// unescaped. Several field values are one list (RFC 9110 §5.3). Empty list elements are
    /// skipped (RFC 9110 §5.6.1).
    ///
    /// - Throws: ``WebSocketHandshakeError/malformedExtensions`` at the first byte off the grammar.
    public static func parse(_ values: [String]) throws(WebSocketHandshakeError) -> [WebSocketExtensionOffer] {
        var offers: [WebSocketExtensionOffer] = []
        for value in values { try parse(value.utf8, into: &offers) }
        return offers
    }

    /// Parses one field value by the RFC 6455 §9.1 grammar and appends its elements to `offers`.
    ///
    /// - Throws: ``WebSocketHandshakeError/malformedExtensions`` at the first byte off the grammar.
    public static func parse(_ value: some Collection<UInt8>, into offers: inout [WebSocketExtensionOffer]) throws(WebSocketHandshakeError) {
        var scanner = TokenScanner(Array(value))
        while true {
            scanner.skipWhitespace()
            if scanner.atEnd { break }
            if scanner.consume(UInt8(ascii: ",")) { continue }
            guard let name = scanner.token() else { throw .malformedExtensions }
            var offer = WebSocketExtensionOffer(name: name)
            scanner.skipWhitespace()
            while scanner.consume(UInt8(ascii: ";")) {
                scanner.skipWhitespace()
                guard let param = scanner.token() else { throw .malformedExtensions }
                scanner.skipWhitespace()
                var parameter = WebSocketExtensionParameter(param)
                if scanner.consume(UInt8(ascii: "=")) {
                    scanner.skipWhitespace()
                    if let quoted = try scanner.quotedString() {
                        guard ASCII.isToken(quoted.utf8) else { throw .malformedExtensions }
                        parameter.value = quoted
                    } else if let token = scanner.token() {
                        parameter.value = token
                    } else {
                        throw .malformedExtensions
                    }
                    scanner.skipWhitespace()
                }
                offer.parameters.append(parameter)
            }
            offers.append(offer)
            if scanner.atEnd { break }
            guard scanner.consume(UInt8(ascii: ",")) else { throw .malformedExtensions }
        }
    }

    /// Serializes offers as one header value, elements separated by `, `.
    public static func headerValue(_ offers: [WebSocketExtensionOffer]) -> String {
        offers.map(\.description).joined(separator: ", ")
    }
}

/// Scans tokens, separators and quoted strings of a Sec-WebSocket-Extensions value.
struct TokenScanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }

    mutating func skipWhitespace() {
        while index < bytes.count, ASCII.isWhitespace(bytes[index]) { index += 1 }
    }

    mutating func consume(_ b: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == b else { return false }
        index += 1
        return true
    }

    mutating func token() -> String? {
        let start = index
        while index < bytes.count, ASCII.isTokenByte(bytes[index]) { index += 1 }
        guard index > start else { return nil }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    // Returns nil when no quoted string starts here.
    mutating func quotedString() throws(WebSocketHandshakeError) -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        var out: [UInt8] = []
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if b == UInt8(ascii: "\\") {
                guard index < bytes.count else { break }
                out.append(bytes[index])
                index += 1
            } else {
                out.append(b)
            }
        }
        throw .malformedExtensions
    }
}
