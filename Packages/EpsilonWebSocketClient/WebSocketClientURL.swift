/// A parsed `ws://` or `wss://` URL: what the connection needs (host, port, TLS) and what the
/// handshake sends (Host value, request target).
struct WebSocketClientURL: Hashable, Sendable {
    var isSecure: Bool
    /// The host without brackets (an IPv6 literal is bare here).
    var host: String
    var port: UInt16
    /// `path?query`, at least `/` (RFC 6455 §3: no fragment).
    var target: String

    /// The Host field: the host (bracketed for IPv6) and the port unless it is the default.
    var authority: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isSecure ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// Parses `text`; `http`/`https` are accepted as aliases (RFC 6455 §3 allows only ws/wss,
    /// but a client that takes both saves callers a rewrite).
    init(_ text: String) throws(WebSocketClientError) {
        guard let schemeEnd = text.range(of: "://") else { throw .invalidURL("no scheme in \(text)") }
        switch text[..<schemeEnd.lowerBound].lowercased() {
        case "ws", "http": isSecure = false
        case "wss", "https": isSecure = true
        default: throw .invalidURL("scheme must be ws or wss: \(text)")
        }
        var rest = text[schemeEnd.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]
        target = path.isEmpty ? "/" : (path.first == "?" ? "/" + path : String(path))
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var portText: Substring?
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL("unclosed IPv6 literal in \(text)") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw .invalidURL("junk after IPv6 literal in \(text)") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty else { throw .invalidURL("no host in \(text)") }
        guard host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidURL("control, space or non-ASCII byte in \(text)")
        }
        if let portText, !portText.isEmpty {
            guard let value = UInt16(portText), value > 0 else { throw .invalidURL("bad port in \(text)") }
            port = value
        } else {
            port = isSecure ? 443 : 80
        }
    }
}
