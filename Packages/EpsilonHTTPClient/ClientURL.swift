// The parts of an absolute http(s) URL the client needs; no Foundation on the request path.

/// An origin (RFC 6454): scheme, host and port; the pool's key.
struct ClientOrigin: Hashable, Sendable, CustomStringConvertible {
    var isSecure: Bool
    /// Lower-cased host, without IPv6 brackets.
    var host: String
    var port: UInt16

    var scheme: String { isSecure ? "https" : "http" }
    var defaultPort: UInt16 { isSecure ? 443 : 80 }
    /// The `Host` field / `:authority` value: host, with the port when it is not the default.
    var authority: String {
        let bracketed = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }
    var description: String { "\(scheme)://\(authority)" }
}

/// An absolute URL split for a request.
struct ClientURL: Sendable {
    var origin: ClientOrigin
    /// Path and query, at least "/" (the fragment is dropped: never sent).
    var pathAndQuery: String

    /// Parses `scheme://authority/path?query#fragment` (RFC 3986 §3), http and https only.
    init(_ text: String) throws(HTTPClientError) {
        guard let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")),
              text.utf8[colon...].starts(with: "://".utf8) else { throw .invalidURL(text) }
        let scheme = String(text[..<colon])
        let rest = text[text.utf8.index(colon, offsetBy: 3)...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = String(rest[..<authorityEnd])
        var path = String(rest[authorityEnd...])
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        if path.isEmpty || path.first == "?" { path = "/" + path }
        try self.init(scheme: scheme, authority: authority, path: path, original: text)
    }

    /// From the parts of a swift-http-types request.
    init(scheme: String, authority: String, path: String, original: String? = nil) throws(HTTPClientError) {
        let isSecure: Bool
        // Byte compares (no Foundation string search on the request path).
        if scheme == "http" || scheme == "HTTP" {
            isSecure = false
        } else if scheme == "https" || scheme == "HTTPS" {
            isSecure = true
        } else {
            switch scheme.lowercased() {
            case "http": isSecure = false
            case "https": isSecure = true
            default: throw .unsupportedScheme(scheme)
            }
        }
        // The error's text, built only on failure (not on every request).
        func invalid() -> HTTPClientError { .invalidURL(original ?? "\(scheme)://\(authority)\(path)") }
        // Credentials in the URL are not supported: they would leak into logs and redirects.
        guard !authority.utf8.contains(UInt8(ascii: "@")), !authority.isEmpty else { throw invalid() }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid() }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid() }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = Substring(authority)
        }
        var port: UInt16 = isSecure ? 443 : 80
        if let portText, !portText.isEmpty {
            guard portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = UInt16(portText), value > 0 else {
                throw invalid()
            }
            port = value
        }
        guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != 0x2f && $0 != 0x5c }) else {
            throw invalid()
        }
        guard path.hasPrefix("/"), path.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7f }) else { throw invalid() }
        let lowered = host.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) ? host.lowercased() : String(host)
        origin = ClientOrigin(isSecure: isSecure, host: lowered, port: port)
        pathAndQuery = path
    }

    /// The absolute URL, as text.
    var absoluteString: String { "\(origin)\(pathAndQuery)" }
}
