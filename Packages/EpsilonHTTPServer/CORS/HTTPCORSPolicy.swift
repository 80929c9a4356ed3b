@_spi(EpsilonInternal) import EpsilonBytes

/// Which cross-origin requests a server allows, and the response fields that say so
/// (the CORS protocol of the Fetch standard, §3.2).
///
/// Field names are returned in lower case, valid for HTTP/1.1 and HTTP/2 alike. Credentials
/// are never combined with `*`: with ``allowsCredentials`` the origin is echoed instead.
/// Input that could not have come from a browser (an origin with spaces or control bytes, a
/// method or header name that is not a token) is refused, so nothing from the request is
/// echoed unchecked.
///
/// ```swift
/// let cors = HTTPCORSPolicy(allowedOrigins: .list(["https://app.example"]),
///                           allowedMethods: ["GET", "POST", "DELETE"],
///                           allowedHeaders: ["content-type", "authorization"],
///                           allowsCredentials: true, maxAge: 600)
/// if let fields = cors.preflightFields(origin: origin, requestMethod: method, requestHeaders: headers) {
///     // 204 with `fields`
/// }
/// ```
public struct HTTPCORSPolicy: Sendable {
    /// The origins allowed to read responses.
    public enum AllowedOrigins: Sendable {
        /// Any origin (`Access-Control-Allow-Origin: *`, or the origin echoed with credentials;
        /// the opaque origin `null` is then refused).
        case any
        /// Exactly these serialized origins ("https://example.com:8443"), compared ignoring ASCII
        /// case; `"null"` allows the opaque origin.
        case list([String])
    }

    /// The origins allowed.
    public var allowedOrigins: AllowedOrigins
    /// The methods a preflight may ask for, compared case-sensitively; `"*"` allows any.
    public var allowedMethods: [String]
    /// The request header names a preflight may ask for, compared ignoring case; `"*"` allows any.
    public var allowedHeaders: [String]
    /// The response header names scripts may read beyond the safelisted ones.
    public var exposedHeaders: [String]
    /// Whether requests with credentials (cookies, HTTP authentication) may read responses.
    public var allowsCredentials: Bool
    /// How long, in seconds, a browser may cache a preflight answer; nil sends no `Access-Control-Max-Age`.
    public var maxAge: Int?

    /// Creates a policy; the defaults allow any origin to use the CORS-safelisted methods
    /// without credentials or extra headers.
    public init(
        allowedOrigins: AllowedOrigins = .any,
        allowedMethods: [String] = ["GET", "HEAD", "POST"],
        allowedHeaders: [String] = [],
        exposedHeaders: [String] = [],
        allowsCredentials: Bool = false,
        maxAge: Int? = nil
    ) {
        self.allowedOrigins = allowedOrigins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposedHeaders = exposedHeaders
        self.allowsCredentials = allowsCredentials
        self.maxAge = maxAge
    }

    /// Whether responses under this policy differ by the request's `Origin`, so every response
    /// of a CORS-enabled route (refused ones included) should carry `Vary: Origin` for caches.
    public var variesByOrigin: Bool {
        if case .any = allowedOrigins, !allowsCredentials { return false }
        return true
    }

    /// The answer to a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`):
    /// the fields of a 204, or nil when the origin, the method or one of the requested headers
    /// is not allowed (answer the OPTIONS without CORS fields then).
    ///
    /// - Parameters:
    ///   - origin: the `Origin` field value.
    ///   - requestMethod: the `Access-Control-Request-Method` field value.
    ///   - requestHeaders: the `Access-Control-Request-Headers` field value, if sent (a list of names).
    public func preflightFields(origin: String, requestMethod: String, requestHeaders: String?) -> [(name: String, value: String)]? {
        guard let allowOrigin = allowOrigin(for: origin) else { return nil }
        guard ASCII.isToken(requestMethod.utf8) else { return nil }
        let anyMethod = allowedMethods.contains("*")
        guard anyMethod || allowedMethods.contains(requestMethod) else { return nil }

        var headerNames: [String] = []
        if let requestHeaders {
            for element in requestHeaders.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                let name = element.drop(while: ASCII.isWhitespace).reversed().drop(while: ASCII.isWhitespace).reversed()
                if name.isEmpty { continue }  // empty list elements (RFC 9110 §5.6.1)
                guard ASCII.isToken(name) else { return nil }
                headerNames.append(String(decoding: name.map(ASCII.lowercased), as: UTF8.self))
            }
        }
        let anyHeader = allowedHeaders.contains("*")
        for name in headerNames where !anyHeader && !allowedHeaders.contains(where: { ASCII.equalsIgnoringCase($0, name) }) {
            return nil
        }

        var fields: [(name: String, value: String)] = [("access-control-allow-origin", allowOrigin)]
        if allowsCredentials { fields.append(("access-control-allow-credentials", "true")) }
        // With credentials `*` is not a wildcard (Fetch §3.2.3), so echo what was asked.
        fields.append(("access-control-allow-methods", anyMethod ? requestMethod : allowedMethods.joined(separator: ", ")))
        if !headerNames.isEmpty {
            fields.append(("access-control-allow-headers", headerNames.joined(separator: ", ")))
        }
        if let maxAge { fields.append(("access-control-max-age", String(max(0, maxAge)))) }
        let vary = "access-control-request-method, access-control-request-headers"
        fields.append(("vary", allowOrigin == "*" ? vary : "origin, " + vary))
        return fields
    }

    /// The fields to add to the response of an actual request carrying `Origin`: the allowed
    /// origin (`Vary: Origin` when it is echoed rather than `*`), credentials and exposed
    /// headers; empty when the origin is refused (see ``variesByOrigin`` for caches).
    public func responseFields(origin: String) -> [(name: String, value: String)] {
        guard let allowOrigin = allowOrigin(for: origin) else { return [] }
        var fields: [(name: String, value: String)] = [("access-control-allow-origin", allowOrigin)]
        if allowsCredentials { fields.append(("access-control-allow-credentials", "true")) }
        if !exposedHeaders.isEmpty {
            fields.append(("access-control-expose-headers", exposedHeaders.joined(separator: ", ")))
        }
        if allowOrigin != "*" { fields.append(("vary", "origin")) }
        return fields
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, or nil when it is refused.
    func allowOrigin(for origin: String) -> String? {
        // A serialized origin is visible ASCII (Fetch §3.1; RFC 6454 §7): anything else is not
        // from a browser and must not be echoed into a response field.
        guard !origin.isEmpty, origin.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        switch allowedOrigins {
        case .any:
            if !allowsCredentials { return "*" }
            return origin == "null" ? nil : origin
        case .list(let origins):
            return origins.contains(where: { ASCII.equalsIgnoringCase($0, origin) }) ? origin : nil
        }
    }
}
