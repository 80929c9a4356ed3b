// An absolute http(s) URL checked for use as a request target: the parts a request needs and
// the origin that decides whether credentials may follow.

/// An absolute `http`/`https` URL split into what ``HTTPRedirectPolicy`` needs.
struct HTTPRedirectTarget: Equatable {
    /// `http` or `https`, lower case.
    var scheme: String
    /// Lower case; IPv6 literals keep their brackets; non-ASCII labels become A-labels.
    var host: String
    /// The port as written, nil when absent or empty.
    var port: Int?
    /// Path (at least `/`) and query, percent-encoded where needed.
    var pathAndQuery: String
    /// The fragment, percent-encoded, without `#`.
    var fragment: String?

    /// `host[:port]` for the request's authority.
    var authority: String { port.map { "\(host):\($0)" } ?? host }

    /// The URL with the fragment.
    var url: String { "\(scheme)://\(authority)\(pathAndQuery)" + (fragment.map { "#" + $0 } ?? "") }

    /// What two URLs must share to be the same origin (RFC 6454 §4): the port made explicit.
    var origin: String { "\(scheme)://\(host):\(port ?? (scheme == "https" ? 443 : 80))" }

    /// What identifies a resource when looking for loops: the origin, path and query.
    var resourceKey: String { origin + pathAndQuery }

    /// Checks a resolved reference; nil when it is not an absolute http(s) URL with a valid host.
    init?(_ reference: URIReference) {
        guard let rawScheme = reference.scheme, let authority = reference.authority else { return nil }
        let scheme = rawScheme.lowercased()
        guard scheme == "http" || scheme == "https", !authority.contains("@") else { return nil }
        // host [ ":" port ], the host an IP literal in brackets or a name.
        var hostPart = authority, portPart: Substring?
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { return nil }
                portPart = after.dropFirst()
            }
            guard hostPart.dropFirst().dropLast().allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard let host = Self.canonicalHost(hostPart) else { return nil }
        self.scheme = scheme
        self.host = host
        if let portPart, !portPart.isEmpty {
            guard portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portPart), port <= 65535 else { return nil }
            self.port = port
        }
        let path = reference.path.isEmpty ? "/" : Self.percentEncoded(reference.path)
        pathAndQuery = path + (reference.query.map { "?" + Self.percentEncoded($0) } ?? "")
        fragment = reference.fragment.map(Self.percentEncoded)
    }

    /// Lower case, labels of letters, digits, `-` and `_` (non-ASCII ones as A-labels); nil otherwise.
    private static func canonicalHost(_ host: Substring) -> String? {
        if host.first == "[" { return host.lowercased() }
        guard !host.isEmpty else { return nil }
        var labels: [String] = []
        for label in host.lowercased().split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty {
                labels.append("")
                continue
            }
            guard let ascii = Punycode.asciiLabel(label),
                  ascii.utf8.allSatisfy({ $0 &- UInt8(ascii: "a") < 26 || $0 &- UInt8(ascii: "0") < 10 || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
            else { return nil }
            labels.append(ascii)
        }
        // One trailing dot (an absolute name) is allowed; other empty labels are not.
        if labels.last == "" { labels.removeLast() }
        guard !labels.isEmpty, !labels.contains("") else { return nil }
        return labels.joined(separator: ".")
    }

    /// Percent-encodes what may not appear raw in a request target: space, `"<>\^`{|}` and every
    /// non-ASCII byte (UTF-8). Existing `%XX` escapes are kept.
    private static func percentEncoded(_ text: Substring) -> String {
        let unsafe: Set<UInt8> = Set(" \"<>\\^`{|}".utf8)
        guard text.utf8.contains(where: { $0 >= 0x80 || unsafe.contains($0) }) else { return String(text) }
        var bytes: [UInt8] = []
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            if byte >= 0x80 || unsafe.contains(byte) {
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
