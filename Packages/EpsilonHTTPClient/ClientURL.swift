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
///
/// Parsed byte by byte (every byte that matters is ASCII): a small GET parses its URL on every
/// request, and `Character` searches cost grapheme breaking on each step.
struct ClientURL: Sendable {
    var origin: ClientOrigin
    /// Path and query, at least "/" (the fragment is dropped: never sent).
    var pathAndQuery: String
    /// ``ClientOrigin/authority``, made once.
    let authority: String
    /// The URL text as given, when it is already the normal form ``absoluteString`` would build.
    private let normalText: String?

    /// Parses `scheme://authority/path?query#fragment` (RFC 3986 §3), http and https only.
    init(_ text: String) throws(HTTPClientError) {
        var copy = text
        self = try copy.withUTF8 { Self.parse($0, text: text) }.get()
    }

    /// From the parts of a swift-http-types request.
    init(scheme: String, authority: String, path: String) throws(HTTPClientError) {
        let isSecure = try Self.isSecure(scheme: scheme.utf8)
        var authorityText = authority
        var pathText = path
        let made = authorityText.withUTF8 { authorityBytes in
            pathText.withUTF8 { pathBytes in
                Self.make(isSecure: isSecure, authority: authorityBytes[...], path: pathBytes[...], pathText: path,
                          text: nil, original: "\(scheme)://\(authority)\(path)")
            }
        }
        self = try made.get()
    }

    private init(origin: ClientOrigin, pathAndQuery: String, authority: String, normalText: String?) {
        self.origin = origin
        self.pathAndQuery = pathAndQuery
        self.authority = authority
        self.normalText = normalText
    }

    /// The absolute URL, as text.
    var absoluteString: String { normalText ?? "\(origin)\(pathAndQuery)" }

    // MARK: Bytes

    /// Splits at the first `:` (which must start `://`), then at the first `/`, `?` or `#`.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, text: String) -> Result<ClientURL, HTTPClientError> {
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon + 2 < bytes.count,
              bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/") else { return .failure(.invalidURL(text)) }
        let scheme = bytes[..<colon]
        let isSecure: Bool
        do {
            isSecure = try Self.isSecure(scheme: scheme)
        } catch {
            return .failure(error)
        }
        let authorityStart = colon + 3
        var authorityEnd = authorityStart
        while authorityEnd < bytes.count {
            let byte = bytes[authorityEnd]
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") { break }
            authorityEnd += 1
        }
        var pathEnd = authorityEnd
        while pathEnd < bytes.count && bytes[pathEnd] != UInt8(ascii: "#") { pathEnd += 1 }
        let path = bytes[authorityEnd..<pathEnd]
        // The text is the normal form (``absoluteString``) when no part is rewritten below.
        let normalScheme = !scheme.contains(where: { $0 >= 0x41 && $0 <= 0x5A })
        let normal = normalScheme && pathEnd == bytes.count && path.first == UInt8(ascii: "/")
        let pathText: String
        if path.first == UInt8(ascii: "/") {
            pathText = string(path)
        } else {
            pathText = "/" + string(path)   // empty, or a query first
        }
        return make(isSecure: isSecure, authority: bytes[authorityStart..<authorityEnd], path: path, pathText: pathText,
                    text: normal ? text : nil, original: text)
    }

    /// Checks the authority and the path; `text` is the whole URL when it is in normal form
    /// as far as the scheme and path go.
    private static func make(isSecure: Bool, authority: Slice<UnsafeBufferPointer<UInt8>>, path: Slice<UnsafeBufferPointer<UInt8>>,
                             pathText: String, text: String?, original: @autoclosure () -> String) -> Result<ClientURL, HTTPClientError> {
        // The error's text is built only on failure (not on every request).
        guard let parsed = parseAuthority(authority, isSecure: isSecure) else { return .failure(.invalidURL(original())) }
        // A path starts with `/` and holds no space, control byte or DEL (a query-first path
        // gets its `/` in `pathText`).
        for byte in path where byte <= 0x20 || byte == 0x7f { return .failure(.invalidURL(original())) }
        guard pathText.utf8.first == UInt8(ascii: "/") else { return .failure(.invalidURL(original())) }
        let hostBytes = UnsafeBufferPointer(rebasing: authority)[parsed.host]
        let host = parsed.needsLowering
            ? String(decoding: hostBytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
            : string(hostBytes)
        let origin = ClientOrigin(isSecure: isSecure, host: host, port: parsed.port)
        // The authority as given is already normal when nothing in it changes (the usual case).
        let normalAuthority = parsed.isNormal ? string(authority) : origin.authority
        return .success(ClientURL(origin: origin, pathAndQuery: pathText, authority: normalAuthority,
                                  normalText: parsed.isNormal ? text : nil))
    }

    /// The bytes as a string, through the standard library's fast path for a typed buffer (a
    /// slice takes its generic path, with metadata lookups).
    private static func string(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes), as: UTF8.self)
    }

    /// Whether `scheme` is https (true) or http (false), in any case.
    private static func isSecure(scheme: some Collection<UInt8>) throws(HTTPClientError) -> Bool {
        let lowered = scheme.lazy.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        if lowered.elementsEqual("http".utf8) { return false }
        if lowered.elementsEqual("https".utf8) { return true }
        throw .unsupportedScheme(String(decoding: scheme, as: UTF8.self))
    }

    private struct Authority {
        /// The host's offsets (inside the brackets of an IPv6 literal).
        var host: Range<Int>
        var port: UInt16
        var needsLowering: Bool
        /// The authority is what ``ClientOrigin/authority`` would write for it.
        var isNormal: Bool
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`; nil for anything else, and for credentials
    /// (`user@`), which are not supported: they would leak into logs and redirects.
    private static func parseAuthority(_ slice: Slice<UnsafeBufferPointer<UInt8>>, isSecure: Bool) -> Authority? {
        let bytes = UnsafeBufferPointer(rebasing: slice)
        guard !bytes.isEmpty, !bytes.contains(UInt8(ascii: "@")) else { return nil }
        var host: Range<Int>
        var portStart: Int?
        let bracketed = bytes[0] == UInt8(ascii: "[")
        if bracketed {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            host = 1..<close
            if close + 1 < bytes.count {
                guard bytes[close + 1] == UInt8(ascii: ":") else { return nil }
                portStart = close + 2
            }
        } else if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) {
            host = 0..<colon
            portStart = colon + 1
        } else {
            host = 0..<bytes.count
        }
        let defaultPort: UInt16 = isSecure ? 443 : 80
        var port = defaultPort
        if let portStart, portStart < bytes.count {
            var value = 0
            for index in portStart..<bytes.count {
                let digit = bytes[index] &- 0x30
                guard digit <= 9 else { return nil }
                value = value * 10 + Int(digit)
                guard value <= Int(UInt16.max) else { return nil }
            }
            guard value > 0 else { return nil }
            port = UInt16(value)
        }
        guard !host.isEmpty else { return nil }
        var needsLowering = false
        var hasColon = false
        for index in host {
            let byte = bytes[index]
            guard byte > 0x20 && byte < 0x7f && byte != 0x2f && byte != 0x5c else { return nil }
            if byte >= 0x41 && byte <= 0x5A { needsLowering = true }
            if byte == UInt8(ascii: ":") { hasColon = true }
        }
        // Normal: lower-case host, bracketed exactly when it holds a colon, the port written
        // exactly when it is not the default (as digits without leading zeros).
        let portWritten = portStart.map { $0 < bytes.count } ?? false
        let portNormal = portWritten ? port != defaultPort && bytes[portStart!] != 0x30 : portStart == nil
        let isNormal = !needsLowering && bracketed == hasColon && portNormal
        return Authority(host: host, port: port, needsLowering: needsLowering, isNormal: isNormal)
    }
}
