// Conditional requests on a static file (RFC 9110 §13.2.2), evaluated in the RFC's order:
//   1. If-Match (strong comparison)           false → 412
//   2. else If-Unmodified-Since               modified after the date → 412
//   3. If-None-Match (weak comparison)        matches → 304 for GET/HEAD (412 otherwise)
//   4. else If-Modified-Since (GET/HEAD)      not modified since → 304
//   5. If-Range (GET with Range)              decided by StaticPreconditions.ifRangeHolds
// A date that does not parse is ignored (§13.1.3, §13.1.4), as is If-Modified-Since after
// the server's clock.

/// The outcome of a request's preconditions.
enum StaticPreconditionResult: Equatable, Sendable {
    /// Serve the representation.
    case proceed
    /// 304 Not Modified.
    case notModified
    /// 412 Precondition Failed.
    case preconditionFailed
}

/// The validators of the selected representation.
struct StaticValidators: Sendable {
    /// The strong entity-tag, quoted (`"…"`).
    var etag: String
    /// Last modification, seconds since 1970.
    var lastModified: Int64
}

/// The conditional fields of a request (raw values).
struct StaticConditionalFields {
    var ifMatch: [UInt8]?
    var ifNoneMatch: [UInt8]?
    var ifModifiedSince: [UInt8]?
    var ifUnmodifiedSince: [UInt8]?
    var ifRange: [UInt8]?
}

enum StaticPreconditions {
    /// Evaluates steps 1–4 for a GET or HEAD (`isGetOrHead`) request.
    static func evaluate(_ fields: StaticConditionalFields, validators: StaticValidators, isGetOrHead: Bool,
                         now: Int64, parseDate: ([UInt8]) -> Int64?) -> StaticPreconditionResult {
        if let ifMatch = fields.ifMatch {
            if !listMatches(ifMatch, etag: validators.etag, weak: false) { return .preconditionFailed }
        } else if let value = fields.ifUnmodifiedSince, let date = parseDate(value) {
            if validators.lastModified > date { return .preconditionFailed }
        }
        if let ifNoneMatch = fields.ifNoneMatch {
            if listMatches(ifNoneMatch, etag: validators.etag, weak: true) {
                return isGetOrHead ? .notModified : .preconditionFailed
            }
        } else if isGetOrHead, let value = fields.ifModifiedSince, let date = parseDate(value), date <= now {
            if validators.lastModified <= date { return .notModified }
        }
        return .proceed
    }

    /// Whether an `If-Range` value lets a Range apply (§13.1.5): an entity-tag must match
    /// strongly; a date must equal Last-Modified exactly. Anything else: serve the whole file.
    static func ifRangeHolds(_ value: [UInt8], validators: StaticValidators, parseDate: ([UInt8]) -> Int64?) -> Bool {
        let trimmed = value.drop { $0 == 0x20 || $0 == 0x09 }
        if trimmed.first == UInt8(ascii: "\"") || trimmed.starts(with: "W/".utf8) {
            // One entity-tag, nothing after it (a list is not an If-Range value).
            let tag = Array(trimmed.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed())
            guard tag.last == UInt8(ascii: "\""), tag.count(where: { $0 == UInt8(ascii: "\"") }) == 2 else { return false }
            return listMatches(tag, etag: validators.etag, weak: false)
        }
        guard let date = parseDate(value) else { return false }
        return date == validators.lastModified
    }

    /// Whether a field value `*` or `#entity-tag` matches `etag` (strong or weak comparison, §8.8.3.2).
    static func listMatches(_ value: [UInt8], etag: String, weak: Bool) -> Bool {
        let target = Array(etag.utf8)
        var index = 0
        while index < value.count {
            let byte = value[index]
            if byte == 0x20 || byte == 0x09 || byte == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if byte == UInt8(ascii: "*") { return true }
            var isWeak = false
            if byte == UInt8(ascii: "W"), index + 1 < value.count, value[index + 1] == UInt8(ascii: "/") {
                isWeak = true
                index += 2
            }
            guard index < value.count, value[index] == UInt8(ascii: "\"") else { return false }
            guard let close = value[(index + 1)...].firstIndex(of: UInt8(ascii: "\"")) else { return false }
            let tag = value[index...close]
            index = close + 1
            if tag.elementsEqual(target) && (weak || !isWeak) { return true }
        }
        return false
    }
}
