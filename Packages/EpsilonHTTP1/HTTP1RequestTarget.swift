/// The parts of a request-target or URL (RFC 9112 §3.2, RFC 3986 §3), as ranges into the
/// caller's bytes.
///
/// Splitting is separate from parsing so that a server that only routes on the path pays
/// for nothing else. Absent parts are `nil`.
public struct HTTP1RequestTarget: Equatable, Sendable {
    /// `http` in `http://host/`.
    public var scheme: Range<Int>?
    /// The authority: `user@host:port`, or the whole target of a CONNECT request.
    public var authority: Range<Int>?
    /// The path, starting with `/`, or `*` for the asterisk-form.
    public var path: Range<Int>?
    /// The query, without its `?`.
    public var query: Range<Int>?
    /// The fragment, without its `#` (not valid in a request, but present in some URLs).
    public var fragment: Range<Int>?

    /// Splits the target held in `bytes[range]`.
    ///
    /// - Parameters:
    ///   - isConnect: the request's method is CONNECT, so the target is authority-form.
    /// - Throws: ``HTTP1ParseError/Rule/invalidURL`` with the offset (within `bytes`) of the
    ///   first byte that does not fit.
    public static func split(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, isConnect: Bool = false) throws(HTTP1ParseError) -> HTTP1RequestTarget {
        var target = HTTP1RequestTarget()
        var i = range.lowerBound
        let end = range.upperBound
        func fail(_ at: Int) -> HTTP1ParseError { HTTP1ParseError(.invalidURL, at: at) }
        guard i < end else { throw fail(i) }
        if isConnect {
            target.authority = try scanAuthority(bytes, from: i, to: end, stopAtPath: false)
            return target
        }
        let first = bytes.byte(i)
        if first == 0x2A && end - i == 1 {
            target.path = i..<end
            return target
        }
        if isLetter(first) {
            let schemeStart = i
            while i < end, isSchemeByte(bytes.byte(i)) { i += 1 }
            guard i < end, bytes.byte(i) == asciiColon else { throw fail(i) }
            target.scheme = schemeStart..<i
            // RFC 3986 §3: "//" authority follows the scheme of an absolute-form target.
            guard i + 1 < end, bytes.byte(i + 1) == 0x2F else { throw fail(i + 1) }
            guard i + 2 < end, bytes.byte(i + 2) == 0x2F else { throw fail(i + 2) }
            i += 3
            let authority = try scanAuthority(bytes, from: i, to: end, stopAtPath: true)
            target.authority = authority
            i = authority.upperBound
        } else if first != 0x2F {
            throw fail(i)
        }
        // path ? query # fragment
        let pathStart = i
        while i < end, bytes.byte(i) != 0x3F, bytes.byte(i) != 0x23 {
            guard isURLByte(bytes.byte(i)) else { throw fail(i) }
            i += 1
        }
        if i > pathStart { target.path = pathStart..<i }
        if i < end, bytes.byte(i) == 0x3F {
            i += 1
            let queryStart = i
            while i < end, bytes.byte(i) != 0x23 {
                guard isURLByte(bytes.byte(i)) else { throw fail(i) }
                i += 1
            }
            target.query = queryStart..<i
        }
        if i < end, bytes.byte(i) == 0x23 {
            i += 1
            let fragmentStart = i
            while i < end {
                guard isURLByte(bytes.byte(i)) else { throw fail(i) }
                i += 1
            }
            target.fragment = fragmentStart..<i
        }
        return target
    }

    /// RFC 3986 §3.2: authority = [ userinfo "@" ] host [ ":" port ], host may be an IP literal.
    static func scanAuthority(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, stopAtPath: Bool) throws(HTTP1ParseError) -> Range<Int> {
        var i = start
        var sawAt = false
        var inBrackets = false
        while i < end {
            let byte = bytes.byte(i)
            if stopAtPath && !inBrackets && (byte == 0x2F || byte == 0x3F || byte == 0x23) { break }
            switch byte {
            case 0x40:
                if sawAt || inBrackets { throw HTTP1ParseError(.invalidURL, at: i) }
                sawAt = true
            case 0x5B:
                if inBrackets { throw HTTP1ParseError(.invalidURL, at: i) }
                inBrackets = true
            case 0x5D:
                if !inBrackets { throw HTTP1ParseError(.invalidURL, at: i) }
                inBrackets = false
            default:
                guard isAuthorityByte(byte) else { throw HTTP1ParseError(.invalidURL, at: i) }
            }
            i += 1
        }
        if inBrackets || i == start { throw HTTP1ParseError(.invalidURL, at: i) }
        return start..<i
    }
}

@inline(__always) func isLetter(_ b: UInt8) -> Bool { b | 0x20 >= 0x61 && b | 0x20 <= 0x7A }
@inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
@inline(__always) func isSchemeByte(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) || b == 0x2B || b == 0x2D || b == 0x2E }
/// Visible ASCII: what RFC 3986 allows in a path, query or fragment, and a little more
/// (`"`, `<`, `{` and friends), as servers commonly accept it.
@inline(__always) func isURLByte(_ b: UInt8) -> Bool { b > asciiSP && b < 0x7F }
/// RFC 3986 §3.2: unreserved, sub-delims, pct-encoded, ":" and, inside an IP literal, the rest.
@inline(__always) func isAuthorityByte(_ b: UInt8) -> Bool {
    if isLetter(b) || isDigit(b) { return true }
    switch b {
    case 0x2D, 0x2E, 0x5F, 0x7E,                                   // - . _ ~
         0x21, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x3B, 0x3D, // sub-delims
         0x25, 0x3A:                                              // % :
        return true
    default:
        return false
    }
}
