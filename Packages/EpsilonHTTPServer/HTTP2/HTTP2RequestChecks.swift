import EpsilonHTTP2
@_spi(EpsilonInternal) import EpsilonBytes

/// What the server checks of an HTTP/2 request head beyond the machine's rules before it
/// dispatches it, answered with `400` as HTTP/1.1 answers the same heads:
/// - `:path` is origin-form (starts with `/`), or `*` for `OPTIONS` (RFC 9113 §8.3.1; an
///   absolute URI or a bare name is not a `:path`);
/// - `:authority` and `host` are valid authorities (RFC 3986 §3.2, as
///   ``HTTP1RequestChecks/isValidAuthority(_:)``);
/// - when both are sent they name the same authority (RFC 9113 §8.3.1: a server SHOULD treat
///   a `host` that differs from `:authority` as malformed), compared without ASCII case and
///   without a default port (`:80`, `:443`).
enum HTTP2RequestChecks {
    /// Whether the head in `list` (summarised by `summary`) is a bad request.
    static func isBadRequest(_ list: HTTP2HeaderList, _ summary: HTTP2RequestHead.Summary) -> Bool {
        if summary.path >= 0 {
            let isOptions = summary.method >= 0 && list.withField(at: summary.method) { $1.elementsEqual("OPTIONS".utf8) }
            let pathOK = list.withField(at: summary.path) { _, path in
                path.first == UInt8(ascii: "/") || (isOptions && path.elementsEqual("*".utf8))
            }
            if !pathOK { return true }
        }
        for index in [summary.authority, summary.host] where index >= 0 {
            if !list.withField(at: index, { HTTP1RequestChecks.isValidAuthority($1) }) { return true }
        }
        guard summary.authority >= 0, summary.host >= 0 else { return false }
        return !list.withField(at: summary.authority) { _, authority in
            list.withField(at: summary.host) { _, host in sameAuthority(authority, host) }
        }
    }

    /// Whether two authorities are the same, ignoring ASCII case and a default port.
    static func sameAuthority(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let left = withoutDefaultPort(a), right = withoutDefaultPort(b)
        return ASCII.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: a[..<left]), UnsafeRawBufferPointer(rebasing: b[..<right]))
    }

    /// The length of `authority` without a trailing `:80` or `:443`.
    private static func withoutDefaultPort(_ authority: UnsafeRawBufferPointer) -> Int {
        for port in [":80", ":443"] where authority.count > port.utf8.count
            && authority.suffix(port.utf8.count).elementsEqual(port.utf8) {
            return authority.count - port.utf8.count
        }
        return authority.count
    }
}
