// RFC 6265 §5.2: a Set-Cookie field value into a name, a value and the attributes that count.

@_spi(EpsilonInternal) import EpsilonBytes

/// A Set-Cookie field value as RFC 6265 §5.2 reads it, before §5.3 decides whether to store it.
struct SetCookie: Equatable {
    var name: Substring
    var value: Substring
    /// §5.2.1, already in seconds since 1970.
    var expires: Int64?
    /// §5.2.2, already turned into an absolute expiry (`Int64.min` for "now or earlier").
    var maxAgeExpiry: Int64?
    /// §5.2.3, without the leading dot, lower case; nil when absent or ignored.
    var domain: String?
    /// §5.2.4; nil when absent or not starting with `/` (the default path then applies).
    var path: Substring?
    var isSecure = false
    var isHTTPOnly = false
    var sameSite: HTTPCookie.SameSite?

    /// The expiry §5.3 step 3 uses: Max-Age wins over Expires.
    var expiresAt: Int64? { maxAgeExpiry ?? expires }

    /// Parses `field` received at `now`; nil when §5.2 (or RFC 6265bis §5.6 on control
    /// characters) says to ignore the whole field.
    static func parse(_ field: String, now: Int64) -> SetCookie? {
        let text = Substring(field)
        let pairEnd = text.firstIndex(of: ";") ?? text.endIndex
        let pair = text[..<pairEnd]
        guard let equals = pair.firstIndex(of: "=") else { return nil }  // §5.2 step 2
        let name = trimmed(pair[..<equals]), value = trimmed(pair[pair.index(after: equals)...])
        guard !name.isEmpty, !containsControl(name), !containsControl(value) else { return nil }
        var cookie = SetCookie(name: name, value: value)
        guard pairEnd < text.endIndex else { return cookie }
        for attribute in text[text.index(after: pairEnd)...].split(separator: ";", omittingEmptySubsequences: true) {
            let equals = attribute.firstIndex(of: "=")
            let key = trimmed(attribute[..<(equals ?? attribute.endIndex)])
            let argument = equals.map { trimmed(attribute[attribute.index(after: $0)...]) } ?? ""
            cookie.apply(key: key, value: argument, now: now)
        }
        return cookie
    }

    /// §5.2.1–5.2.6: one attribute; the last occurrence of each wins, unknown ones are ignored.
    private mutating func apply(key: Substring, value: Substring, now: Int64) {
        if ASCII.equalsIgnoringCase(key, "expires") {
            if let date = CookieDate.parse(value) { expires = date }
        } else if ASCII.equalsIgnoringCase(key, "max-age") {
            if let seconds = Self.deltaSeconds(value) { maxAgeExpiry = seconds <= 0 ? .min : now.addingClamped(seconds) }
        } else if ASCII.equalsIgnoringCase(key, "domain") {
            guard !value.isEmpty else { return }  // §5.2.3: SHOULD ignore an empty Domain
            let name = value.first == "." ? value.dropFirst() : value
            domain = String(decoding: name.utf8.map(ASCII.lowercased), as: UTF8.self)
        } else if ASCII.equalsIgnoringCase(key, "path") {
            path = value.first == "/" ? value : nil
        } else if ASCII.equalsIgnoringCase(key, "secure") {
            isSecure = true
        } else if ASCII.equalsIgnoringCase(key, "httponly") {
            isHTTPOnly = true
        } else if ASCII.equalsIgnoringCase(key, "samesite") {
            sameSite = [HTTPCookie.SameSite.strict, .lax, .none].first { ASCII.equalsIgnoringCase($0.rawValue, value) }
        }
    }

    /// §5.2.2: `-`? DIGIT+, else nil (the attribute is ignored). Clamped instead of overflowing.
    private static func deltaSeconds(_ text: Substring) -> Int64? {
        let negative = text.first == "-"
        let digits = negative ? text.dropFirst() : text
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 &- 0x30 < 10 }) else { return nil }
        var value: Int64 = 0
        for byte in digits.utf8 {
            value = value > Int64.max / 20 ? Int64.max / 10 : value * 10 + Int64(byte - 0x30)
        }
        return negative ? -value : value
    }

    /// Without leading and trailing SP/HTAB (WSP).
    private static func trimmed(_ text: Substring) -> Substring {
        let start = text.utf8.firstIndex { !ASCII.isWhitespace($0) } ?? text.endIndex
        let end = text.utf8[start...].lastIndex { !ASCII.isWhitespace($0) }.map { text.utf8.index(after: $0) } ?? start
        return text[start..<end]
    }

    /// %x00-08 / %x0A-1F / %x7F: never stored, so never written into a Cookie field.
    private static func containsControl(_ text: Substring) -> Bool {
        text.utf8.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }
    }

    private init(name: Substring, value: Substring) {
        self.name = name
        self.value = value
    }
}

extension Int64 {
    /// `self + other`, clamped to the representable range.
    fileprivate func addingClamped(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
