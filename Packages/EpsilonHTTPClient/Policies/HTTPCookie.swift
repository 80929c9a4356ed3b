// A stored cookie (RFC 6265 §5.3): what the jar keeps of one Set-Cookie field.

/// One cookie as the jar stores it after RFC 6265 §5.3: its name and value, the scope it is sent
/// in (domain, path, host-only, secure) and its lifetime.
///
/// Values come from ``HTTPCookieJar``; building one by hand is for tests and inspection. Times are
/// whole seconds since 1970-01-01T00:00:00Z, the same clock the jar's `now` arguments use.
public struct HTTPCookie: Sendable, Hashable {
    /// The SameSite attribute (RFC 6265bis §4.1.2.7), kept as received. An HTTP client has no
    /// "site for cookies", so the jar stores it for the caller but does not enforce it.
    public enum SameSite: String, Sendable, Hashable {
        /// Sent only with same-site requests.
        case strict = "Strict"
        /// Sent with same-site requests and top-level cross-site navigations.
        case lax = "Lax"
        /// Sent with cross-site requests too.
        case none = "None"
    }

    /// The cookie's name (never empty).
    public var name: String
    /// The cookie's value, as received (quotes, if any, are part of it).
    public var value: String
    /// The domain it belongs to: canonical, lower case, without a leading dot.
    public var domain: String
    /// The path it is sent under (starts with `/`).
    public var path: String
    /// When it expires, in seconds since 1970; nil for a session cookie (kept until the jar goes).
    public var expiresAt: Int64?
    /// Whether it is sent only over secure schemes (`https`, `wss`).
    public var isSecure: Bool
    /// Whether it carried HttpOnly (kept; every request of an HTTP client is an HTTP API use).
    public var isHTTPOnly: Bool
    /// Whether it is sent only to exactly ``domain`` (no Domain attribute), not to its subdomains.
    public var isHostOnly: Bool
    /// The SameSite attribute, nil when absent or not one of the three known values.
    public var sameSite: SameSite?
    /// When it was first stored, in seconds since 1970 (kept when a newer field replaces it).
    public var createdAt: Int64

    /// A cookie with every field given.
    public init(
        name: String, value: String, domain: String, path: String = "/", expiresAt: Int64? = nil,
        isSecure: Bool = false, isHTTPOnly: Bool = false, isHostOnly: Bool = true,
        sameSite: SameSite? = nil, createdAt: Int64
    ) {
        self.name = name
        self.value = value
        self.domain = domain
        self.path = path
        self.expiresAt = expiresAt
        self.isSecure = isSecure
        self.isHTTPOnly = isHTTPOnly
        self.isHostOnly = isHostOnly
        self.sameSite = sameSite
        self.createdAt = createdAt
    }

    /// Whether it has expired at `now` (a session cookie never does).
    public func isExpired(at now: Int64) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt <= now
    }
}
