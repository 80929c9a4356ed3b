// The cookie store of RFC 6265 §5.3 (storage) and §5.4 (retrieval), bounded, behind a lock.

@_spi(EpsilonInternal) import EpsilonBytes
import Synchronization

/// An RFC 6265 cookie jar: stores the Set-Cookie fields of responses and gives the Cookie field
/// for requests. Thread-safe; one jar may be shared by several clients.
///
/// ```swift
/// let jar = HTTPCookieJar(publicSuffixes: try? HTTPPublicSuffixList())
/// jar.store(setCookieFields: ["sid=1; Path=/; Secure; HttpOnly"], scheme: "https",
///           host: "example.com", path: "/login", now: now)
/// jar.cookieField(scheme: "https", host: "example.com", path: "/account", now: now)  // "sid=1"
/// ```
///
/// Rules beyond RFC 6265, from RFC 6265bis: a `Secure` cookie is only accepted over a secure
/// scheme and cannot be shadowed from an insecure one; `__Secure-` and `__Host-` name prefixes
/// are enforced; names and values with control characters are refused. `SameSite` is stored
/// but not enforced (an HTTP client has no notion of the site a request comes from).
/// Times are seconds since 1970, given by the caller. Bounded by ``Limits``.
public final class HTTPCookieJar: Sendable {
    /// The bounds of a jar (RFC 6265 §6.1 minimums). Beyond them the oldest cookies go first.
    public struct Limits: Sendable, Hashable {
        /// The largest cookie accepted, name and value bytes together; larger ones are ignored.
        public var maxCookieBytes: Int
        /// The most cookies kept for one domain.
        public var maxCookiesPerDomain: Int
        /// The most cookies kept in all.
        public var maxCookies: Int

        /// Limits of 4096 bytes per cookie, 50 cookies per domain, 3000 in all.
        public init(maxCookieBytes: Int = 4096, maxCookiesPerDomain: Int = 50, maxCookies: Int = 3000) {
            self.maxCookieBytes = maxCookieBytes
            self.maxCookiesPerDomain = maxCookiesPerDomain
            self.maxCookies = maxCookies
        }
    }

    /// A cookie is identified by its name, domain and path (RFC 6265 §5.3 step 11).
    fileprivate struct Key: Hashable {
        var name: String
        var domain: String
        var path: String
    }

    fileprivate struct Entry {
        var cookie: HTTPCookie
        /// Breaks ties between cookies created in the same second: lower is older.
        var sequence: UInt64
    }

    fileprivate struct State {
        var entries: [Key: Entry] = [:]
        var nextSequence: UInt64 = 0
    }

    private let publicSuffixes: HTTPPublicSuffixList?
    private let limits: Limits
    private let state = Mutex(State())

    /// A jar that refuses cookies for the public suffixes of `publicSuffixes` (none refused when
    /// nil), bounded by `limits`.
    public init(publicSuffixes: HTTPPublicSuffixList?, limits: HTTPCookieJar.Limits = .init()) {
        self.publicSuffixes = publicSuffixes
        self.limits = limits
    }

    /// RFC 6265 §5.2–5.3 storage of the Set-Cookie field values of a response to scheme://host/path.
    ///
    /// `host` is the request's host (a port or IPv6 brackets are dropped); `path` the request
    /// target (a query is ignored). A field that is malformed, too large, for another domain or
    /// a public suffix is ignored. A cookie whose expiry is not after `now` deletes the stored
    /// one it replaces.
    ///
    /// - Returns: how many fields took effect (stored, replaced or deleted a cookie).
    @discardableResult
    public func store(setCookieFields: [String], scheme: String, host: String, path: String, now: Int64) -> Int {
        let requestHost = CookieScope.canonicalHost(host)
        let secureScheme = CookieScope.isSecure(scheme: scheme)
        let cookies = setCookieFields.compactMap { field in
            SetCookie.parse(field, now: now).flatMap {
                cookie(from: $0, requestHost: requestHost, requestPath: path, secureScheme: secureScheme, now: now)
            }
        }
        guard !cookies.isEmpty else { return 0 }
        return state.withLock { state in
            state.removeExpired(now: now)
            var applied = 0
            for cookie in cookies where state.accepts(cookie, fromSecureScheme: secureScheme) {
                state.insert(cookie, now: now)
                applied += 1
            }
            state.evict(limits)
            return applied
        }
    }

    /// RFC 6265 §5.4: the Cookie field value for a request, or nil when no cookie applies.
    ///
    /// Cookies are ordered longest path first, then oldest first, and joined with `"; "`.
    public func cookieField(scheme: String, host: String, path: String, now: Int64) -> String? {
        let requestHost = CookieScope.canonicalHost(host)
        let requestPath = CookieScope.uriPath(path)
        let secureScheme = CookieScope.isSecure(scheme: scheme)
        let matching: [Entry] = state.withLock { state in
            state.removeExpired(now: now)
            return state.entries.values.filter { entry in
                let cookie = entry.cookie
                let domainMatches = cookie.isHostOnly
                    ? requestHost == cookie.domain : CookieScope.domainMatches(requestHost, domain: cookie.domain)
                return domainMatches && CookieScope.pathMatches(requestPath, cookiePath: cookie.path)
                    && (secureScheme || !cookie.isSecure)
            }
        }
        guard !matching.isEmpty else { return nil }
        return matching.sorted { a, b in
            if a.cookie.path.utf8.count != b.cookie.path.utf8.count { return a.cookie.path.utf8.count > b.cookie.path.utf8.count }
            if a.cookie.createdAt != b.cookie.createdAt { return a.cookie.createdAt < b.cookie.createdAt }
            return a.sequence < b.sequence
        }.map { "\($0.cookie.name)=\($0.cookie.value)" }.joined(separator: "; ")
    }

    /// A snapshot of the stored cookies, oldest first (expired ones leave on the next store or lookup).
    public var cookies: [HTTPCookie] {
        state.withLock { state in
            state.entries.values.sorted { ($0.cookie.createdAt, $0.sequence) < ($1.cookie.createdAt, $1.sequence) }.map(\.cookie)
        }
    }

    /// Removes every cookie.
    public func removeAll() {
        state.withLock { $0.entries.removeAll() }
    }

    /// RFC 6265 §5.3 steps 2–10 for one parsed field; nil when the cookie must be ignored.
    private func cookie(from parsed: SetCookie, requestHost: String, requestPath: String, secureScheme: Bool, now: Int64) -> HTTPCookie? {
        guard parsed.name.utf8.count + parsed.value.utf8.count <= limits.maxCookieBytes else { return nil }
        // RFC 6265bis §5.7 step 14: only a secure origin may set a Secure cookie.
        guard secureScheme || !parsed.isSecure else { return nil }
        var domain = parsed.domain ?? ""
        // Step 5: a Domain that is a public suffix is host-only for that very host, else refused.
        if !domain.isEmpty, let publicSuffixes, !CookieScope.isIPAddress(domain), publicSuffixes.isPublicSuffix(domain) {
            guard domain == requestHost else { return nil }
            domain = ""
        }
        // Step 6: a Domain must cover the request host.
        if !domain.isEmpty, !CookieScope.domainMatches(requestHost, domain: domain) { return nil }
        let cookie = HTTPCookie(
            name: String(parsed.name), value: String(parsed.value), domain: domain.isEmpty ? requestHost : domain,
            path: parsed.path.map(String.init) ?? CookieScope.defaultPath(requestPath),
            expiresAt: parsed.expiresAt, isSecure: parsed.isSecure, isHTTPOnly: parsed.isHTTPOnly,
            isHostOnly: domain.isEmpty, sameSite: parsed.sameSite, createdAt: now)
        return Self.honoursNamePrefix(cookie, hadDomainAttribute: parsed.domain != nil) ? cookie : nil
    }

    /// RFC 6265bis §4.1.3: `__Secure-` needs Secure; `__Host-` also no Domain and Path `/`.
    private static func honoursNamePrefix(_ cookie: HTTPCookie, hadDomainAttribute: Bool) -> Bool {
        if cookie.name.utf8.count >= 9, ASCII.equalsIgnoringCase(cookie.name.utf8.prefix(9), "__Secure-".utf8) {
            return cookie.isSecure
        }
        if cookie.name.utf8.count >= 7, ASCII.equalsIgnoringCase(cookie.name.utf8.prefix(7), "__Host-".utf8) {
            return cookie.isSecure && !hadDomainAttribute && cookie.path == "/"
        }
        return true
    }
}

extension HTTPCookieJar.State {
    /// RFC 6265 §5.3: expired cookies leave the store.
    fileprivate mutating func removeExpired(now: Int64) {
        entries = entries.filter { !$0.value.cookie.isExpired(at: now) }
    }

    /// RFC 6265bis §5.7 step 15: an insecure origin may not shadow a Secure cookie of the same
    /// name whose domain and path overlap the new one's.
    fileprivate func accepts(_ cookie: HTTPCookie, fromSecureScheme secureScheme: Bool) -> Bool {
        guard !secureScheme, !cookie.isSecure else { return true }
        return !entries.values.contains { entry in
            let old = entry.cookie
            return old.isSecure && old.name == cookie.name
                && (CookieScope.domainMatches(old.domain, domain: cookie.domain) || CookieScope.domainMatches(cookie.domain, domain: old.domain))
                && CookieScope.pathMatches(Substring(cookie.path), cookiePath: old.path)
        }
    }

    /// RFC 6265 §5.3 steps 11–12: replace (keeping the creation time) or add; an expired cookie
    /// only deletes.
    fileprivate mutating func insert(_ cookie: HTTPCookie, now: Int64) {
        let key = HTTPCookieJar.Key(name: cookie.name, domain: cookie.domain, path: cookie.path)
        let old = entries.removeValue(forKey: key)
        guard !cookie.isExpired(at: now) else { return }
        var cookie = cookie
        if let old { cookie.createdAt = old.cookie.createdAt }
        entries[key] = HTTPCookieJar.Entry(cookie: cookie, sequence: nextSequence)
        nextSequence += 1
    }

    /// RFC 6265 §5.3: over a limit, the oldest cookies of the domain, then of the jar, go.
    fileprivate mutating func evict(_ limits: HTTPCookieJar.Limits) {
        var perDomain: [String: Int] = [:]
        for (key, _) in entries { perDomain[key.domain, default: 0] += 1 }
        guard entries.count > limits.maxCookies || perDomain.values.contains(where: { $0 > limits.maxCookiesPerDomain }) else { return }
        let oldestFirst = entries.sorted { ($0.value.cookie.createdAt, $0.value.sequence) < ($1.value.cookie.createdAt, $1.value.sequence) }
        for (key, _) in oldestFirst where perDomain[key.domain, default: 0] > limits.maxCookiesPerDomain {
            entries[key] = nil
            perDomain[key.domain, default: 0] -= 1
        }
        for (key, _) in oldestFirst where entries.count > limits.maxCookies {
            entries[key] = nil
        }
    }
}
