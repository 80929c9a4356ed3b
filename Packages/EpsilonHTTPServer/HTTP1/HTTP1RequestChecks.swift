import EpsilonHTTP1
import EpsilonHTTPTypes
@_spi(EpsilonInternal) import EpsilonBytes

/// What the server checks of an HTTP/1.1 head beyond the machine's grammar before it
/// dispatches it: the `Host` value (RFC 9112 §3.2: an invalid one gets `400`) and the
/// transfer codings (RFC 9112 §6.1: a coding the server does not implement gets `501`), and
/// `Expect` (RFC 9110 §10.1.1: an HTTP/1.1 expectation other than `100-continue` gets `417`;
/// HTTP/1.0 requests' expectations are ignored).
enum HTTP1RequestChecks {
    /// What one pass over the fields found: a status to refuse the request with, or the
    /// `Host` value (the session's authority when the target has none).
    enum Verdict {
        case refused(status: Int)
        case accepted(host: UnsafeRawBufferPointer?)
    }

    /// Checks the head's fields in one pass (the session reads `Host` from the verdict
    /// instead of walking the fields again).
    static func check(framing: HTTP1Framing, fields: HTTP1FieldLines, bytes: UnsafeRawBufferPointer,
                      isHTTP10: Bool = false) -> Verdict {
        var host: UnsafeRawBufferPointer?
        var expectationFailed = false
        for field in fields.fields {
            let name = UnsafeRawBufferPointer(rebasing: bytes[field.name])
            let value = UnsafeRawBufferPointer(rebasing: bytes[field.value])
            if ASCII.equalsIgnoringCase(name, "host".utf8) {
                if !isValidAuthority(value) { return .refused(status: 400) }
                if host == nil { host = value }
            } else if framing == .chunked, ASCII.equalsIgnoringCase(name, "transfer-encoding".utf8) {
                if !onlyChunked(value) { return .refused(status: 501) }
            } else if !isHTTP10, ASCII.equalsIgnoringCase(name, "expect".utf8), !onlyContinue(value) {
                // Decided after the loop: a bad Host or transfer coding is the stronger refusal.
                expectationFailed = true
            }
        }
        return expectationFailed ? .refused(status: 417) : .accepted(host: host)
    }

    /// Whether every expectation listed is `100-continue` (case-insensitive, RFC 9110 §10.1.1;
    /// empty list elements allowed, §5.6.1).
    static func onlyContinue(_ value: UnsafeRawBufferPointer) -> Bool {
        everyElement(of: value) { ASCII.equalsIgnoringCase($0, "100-continue".utf8) }
    }

    /// RFC 3986 §3.2: `host [ ":" port ]`, host an IP-literal in brackets or a reg-name
    /// (unreserved, pct-encoded, sub-delims), port digits. Empty is valid (RFC 9112 §3.2).
    static func isValidAuthority(_ value: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let count = value.count
        if count > 0 && value[0] == UInt8(ascii: "[") {
            i = 1
            while i < count && value[i] != UInt8(ascii: "]") {
                let byte = value[i]
                guard isHexDigit(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "v") || byte == UInt8(ascii: "V") else { return false }
                i += 1
            }
            guard i < count else { return false }
            i += 1
        } else {
            while i < count && value[i] != UInt8(ascii: ":") {
                guard isRegNameByte(value[i]) else { return false }
                i += 1
            }
        }
        guard i < count else { return true }
        guard value[i] == UInt8(ascii: ":") else { return false }
        i += 1
        guard count - i <= 5 else { return false }
        while i < count {
            guard value[i] &- UInt8(ascii: "0") < 10 else { return false }
            i += 1
        }
        return true
    }

    /// Whether every transfer coding listed is `chunked` (the only one the server decodes).
    static func onlyChunked(_ value: UnsafeRawBufferPointer) -> Bool {
        everyElement(of: value) { ASCII.equalsIgnoringCase($0, "chunked".utf8) }
    }

    /// Whether `accepts` holds for every non-empty element of the comma-separated list `value`
    /// (elements trimmed of spaces and tabs; empty ones skipped, RFC 9110 §5.6.1).
    private static func everyElement(of value: UnsafeRawBufferPointer, _ accepts: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count && value[end] != UInt8(ascii: ",") { end += 1 }
            var lower = start, upper = end
            while lower < upper && (value[lower] == 0x20 || value[lower] == 0x09) { lower += 1 }
            while upper > lower && (value[upper - 1] == 0x20 || value[upper - 1] == 0x09) { upper -= 1 }
            if upper > lower && !accepts(UnsafeRawBufferPointer(rebasing: value[lower..<upper])) { return false }
            start = end + 1
        }
        return true
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10 || (byte | 0x20) &- UInt8(ascii: "a") < 6
    }

    private static func isRegNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "%"),
             UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
             UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
             UInt8(ascii: "="):
            true
        default:
            false
        }
    }
}
