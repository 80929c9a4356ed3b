// RFC 6265 §5.1.2–5.1.4: canonical hosts, domain matching, default paths and path matching.

@_spi(EpsilonInternal) import EpsilonBytes

/// The matching rules that decide which requests a cookie belongs to.
enum CookieScope {
    /// RFC 6265 §5.1.2 canonical host: lower case, without brackets, a trailing dot or a port.
    static func canonicalHost(_ host: String) -> String {
        var name = Substring(host)
        if name.hasPrefix("[") {
            name = name.dropFirst().prefix(while: { $0 != "]" })
        } else if let colon = name.firstIndex(of: ":"), name[name.index(after: colon)...].firstIndex(of: ":") == nil {
            name = name[..<colon]  // host:port; two colons or more is a bare IPv6 address
        }
        if name.hasSuffix(".") { name = name.dropLast() }
        return String(decoding: name.utf8.map(ASCII.lowercased), as: UTF8.self)
    }

    /// Whether a canonical host is an IP address literal (IPv6, or four dotted decimal parts).
    static func isIPAddress(_ host: String) -> Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// RFC 6265 §5.1.3: `host` is `domain`, or a host name ending in `.` + `domain`.
    static func domainMatches(_ host: String, domain: String) -> Bool {
        if host == domain { return true }
        guard !domain.isEmpty, host.utf8.count > domain.utf8.count,
              host.utf8.suffix(domain.utf8.count).elementsEqual(domain.utf8), !isIPAddress(host) else { return false }
        return host.utf8.dropLast(domain.utf8.count).last == UInt8(ascii: ".")
    }

    /// The path part of a request target (before `?` or `#`).
    static func uriPath(_ target: String) -> Substring {
        Substring(target).prefix(while: { $0 != "?" && $0 != "#" })
    }

    /// RFC 6265 §5.1.4 default-path: the request path up to, not including, its last `/`.
    static func defaultPath(_ target: String) -> String {
        let path = uriPath(target)
        guard path.first == "/", let lastSlash = path.lastIndex(of: "/"), lastSlash != path.startIndex else { return "/" }
        return String(path[..<lastSlash])
    }

    /// RFC 6265 §5.1.4 path-match of a request path against a cookie path.
    static func pathMatches(_ requestPath: Substring, cookiePath: String) -> Bool {
        guard requestPath.utf8.starts(with: cookiePath.utf8) else { return false }
        if requestPath.utf8.count == cookiePath.utf8.count || cookiePath.utf8.last == UInt8(ascii: "/") { return true }
        return requestPath.utf8.dropFirst(cookiePath.utf8.count).first == UInt8(ascii: "/")
    }

    /// Whether `scheme` is one cookies call secure (RFC 6265bis: https, wss).
    static func isSecure(scheme: String) -> Bool {
        ASCII.equalsIgnoringCase(scheme, "https") || ASCII.equalsIgnoringCase(scheme, "wss")
    }
}
