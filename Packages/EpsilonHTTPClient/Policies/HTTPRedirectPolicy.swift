// When and how a redirect is followed (RFC 9110 §15.4, §10.2.2): status and method rules,
// limits and loops, credentials across origins, no silent downgrade to http.

import HTTPTypes

/// Decides whether a 3xx response is followed and builds the next request.
///
/// ```swift
/// var visited = [firstURL]
/// while let next = try policy.redirect(status: status, location: location, request: request, visited: visited) {
///     visited.append(next.url)
///     request = next.request   // send next.keepsBody ? body : nothing
/// }
/// ```
///
/// Pure: it reads no clock and keeps no state; the caller passes the chain visited so far.
public struct HTTPRedirectPolicy: Sendable {
    /// The most redirects followed in one chain; one more throws
    /// ``HTTPRedirectError/tooManyRedirects(_:)``. Zero turns following off (the 3xx response is
    /// the result).
    public var maxRedirects: Int = 10
    /// Whether an https URL may redirect to an http one (credentials and cookies would travel in
    /// clear text); otherwise ``HTTPRedirectError/insecureRedirect(_:)``.
    public var allowsHTTPSToHTTP = false

    /// Follows up to 10 redirects, never from https to http.
    public static let follow = HTTPRedirectPolicy()
    /// Follows no redirect: every 3xx response is handed back as it is.
    public static let disabled = HTTPRedirectPolicy(maxRedirects: 0)

    /// A policy following up to `maxRedirects` redirects.
    public init(maxRedirects: Int = 10, allowsHTTPSToHTTP: Bool = false) {
        self.maxRedirects = maxRedirects
        self.allowsHTTPSToHTTP = allowsHTTPSToHTTP
    }

    /// Fields that describe a request body, dropped when the body is (RFC 9110 §15.4.4; the
    /// Fetch standard's request-body-header names, plus the framing).
    private static let bodyFields: [HTTPField.Name] = [
        .contentLength, .transferEncoding, .contentType, .contentEncoding, .contentLanguage, .contentLocation, .expect,
    ]
    /// Credentials that must not reach another origin.
    private static let credentialFields: [HTTPField.Name] = [.authorization, .cookie, .proxyAuthorization]

    /// The request to send after `status` (301/302/303/307/308) with `location`, given the request
    /// just sent and the URLs visited so far in this chain (absolute, including the first). nil when
    /// `status` is not a redirect this policy follows. 303 → GET without body (HEAD stays HEAD);
    /// 301/302 POST → GET without body; 307/308 keep method and body. Across origins drops
    /// Authorization, Cookie, Proxy-Authorization. Fragment kept per RFC 9110 §10.2.2.
    ///
    /// `location` is resolved (RFC 3986 §5.2) against the last URL of `visited` (or the request's
    /// own URL when `visited` is empty); spaces and non-ASCII bytes are percent-encoded.
    ///
    /// - Throws: ``HTTPRedirectError`` when the chain is too long, loops, downgrades to http or
    ///   `location` is unusable (control characters such as CR/LF included).
    public func redirect(status: Int, location: String, request: HTTPRequest, visited: [String])
        throws(HTTPRedirectError) -> HTTPRedirect?
    {
        guard [301, 302, 303, 307, 308].contains(status), maxRedirects > 0 else { return nil }
        guard visited.count <= maxRedirects else { throw .tooManyRedirects(maxRedirects) }
        // RFC 9110 §5.5: CR, LF and NUL never belong in a field value; a Location with any
        // control character is an injection attempt or garbage.
        guard !location.isEmpty, !location.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            throw .invalidLocation(Self.escaped(location))
        }
        let baseText = visited.last ?? Self.url(of: request)
        let base = URIReference(Substring(baseText))
        var resolved = URIReference(Substring(location)).resolved(against: base)
        if resolved.fragment == nil { resolved.fragment = base.fragment }  // RFC 9110 §10.2.2
        guard let target = HTTPRedirectTarget(resolved) else { throw .invalidLocation(Self.escaped(location)) }
        let previousTarget = HTTPRedirectTarget(base)
        if previousTarget?.scheme == "https" || request.scheme?.lowercased() == "https", target.scheme == "http", !allowsHTTPSToHTTP {
            throw .insecureRedirect(target.url)
        }

        var next = request
        var keepsBody = true
        // RFC 9110 §15.4.4 (303), §15.4.2/§15.4.3 (301/302 POST), §15.4.8/§15.4.9 (307/308 keep both).
        if (status == 303 && request.method != .head) || ((status == 301 || status == 302) && request.method == .post) {
            next.method = .get
            keepsBody = false
        } else if status == 303 {
            keepsBody = false
        }
        // A loop: a URL of the chain comes again with the same method. A method only changes
        // once (to GET) and never back, so after a change every earlier request differed (this
        // lets POST /form → 303 → GET /form through).
        if next.method == request.method {
            let seen = Set(visited.compactMap { HTTPRedirectTarget(URIReference(Substring($0)))?.resourceKey })
            if seen.contains(target.resourceKey) { throw .loop(target.url) }
        }
        if !keepsBody {
            for name in Self.bodyFields { next.headerFields[name] = nil }
        }
        if previousTarget?.origin != target.origin {
            for name in Self.credentialFields { next.headerFields[name] = nil }
        }
        next.scheme = target.scheme
        next.authority = target.authority
        next.path = target.pathAndQuery
        return HTTPRedirect(request: next, keepsBody: keepsBody, url: target.url)
    }

    /// `scheme://authority/path` of a request (without a fragment, which requests do not carry).
    private static func url(of request: HTTPRequest) -> String {
        "\(request.scheme ?? "http")://\(request.authority ?? "")\(request.path ?? "/")"
    }

    /// The value with control characters shown as `\u{XX}`, safe to log.
    private static func escaped(_ text: String) -> String {
        String(text.unicodeScalars.prefix(2048).flatMap { scalar -> String in
            scalar.value < 0x20 || scalar.value == 0x7F ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        })
    }
}
