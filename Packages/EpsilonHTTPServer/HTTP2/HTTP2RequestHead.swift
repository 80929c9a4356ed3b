import EpsilonHTTP2
@_spi(EpsilonInternal) import EpsilonBytes

/// Reads a request header list the HTTP/2 machine handed out (RFC 9113 §8.3.1) as the
/// protocol-neutral ``HTTPRequestHeadView``: the pseudo-header fields split out, `:path` split
/// at `?`, `:authority` or else `host` as the authority, `content-length` parsed. No copy.
enum HTTP2RequestHead {
    /// What one pass over a header list finds: where each pseudo-header field (and `host`)
    /// sits (-1 when absent), the regular field count, and the declared content length.
    struct Summary {
        var method = -1, scheme = -1, authority = -1, path = -1, host = -1
        /// `:protocol` (RFC 8441 extended CONNECT; the machine lets it through only when we
        /// announced SETTINGS_ENABLE_CONNECT_PROTOCOL).
        var connectProtocol = -1
        var fieldCount = 0
        var contentLength: UInt64?
        /// The head's size as HTTP/1.1 would count it: each field as `name: value` and CRLF
        /// (pseudo-header fields included, standing in for the request line).
        var headBytes = 0
        /// An `expect` field lists something other than `100-continue` (RFC 9110 §10.1.1: 417).
        var expectationFailed = false

        init(_ list: HTTP2HeaderList) {
            var index = 0
            while index < list.count {
                list.withField(at: index) { name, value in record(name, value, at: index) }
                index &+= 1
            }
        }

        private mutating func record(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, at index: Int) {
            headBytes &+= name.count &+ value.count &+ 4
            guard name.first == UInt8(ascii: ":") else {
                fieldCount &+= 1
                if host < 0, name.elementsEqual("host".utf8) { host = index }
                // The machine checked it is digits and agrees with any other (§8.1.1).
                else if name.elementsEqual("content-length".utf8) { contentLength = Self.decimal(value) }
                else if name.elementsEqual("expect".utf8), !HTTP1RequestChecks.onlyContinue(value) { expectationFailed = true }
                return
            }
            if name.elementsEqual(":method".utf8) { method = index }
            else if name.elementsEqual(":scheme".utf8) { scheme = index }
            else if name.elementsEqual(":authority".utf8) { authority = index }
            else if name.elementsEqual(":path".utf8) { path = index }
            else if name.elementsEqual(":protocol".utf8) { connectProtocol = index }
        }

        /// A decimal number, nil when not all digits or above `UInt64`.
        static func decimal(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
            guard !bytes.isEmpty else { return nil }
            var value: UInt64 = 0
            for byte in bytes {
                guard byte &- 0x30 < 10 else { return nil }
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte &- 0x30))
                if overflow1 || overflow2 { return nil }
                value = sum
            }
            return value
        }
    }

    /// Calls `body` with the head of the request in `list`; `endStream` says the request has
    /// no body (its content length is then 0 whatever it declared).
    static func with<Result>(
        _ list: HTTP2HeaderList, summary: Summary, endStream: Bool, _ body: (HTTPRequestHeadView) -> Result
    ) -> Result {
        let authorityIndex = summary.authority >= 0 ? summary.authority : summary.host
        return view(list, summary.method) { method in
            view(list, summary.scheme) { scheme in
                view(list, authorityIndex) { authority in
                    view(list, summary.path) { target in
                        let mark = target.firstIndex(of: UInt8(ascii: "?")) ?? target.count
                        let query = mark < target.count ? UnsafeRawBufferPointer(rebasing: target[(mark &+ 1)...]) : nil
                        return body(HTTPRequestHeadView(
                            method: method, scheme: scheme, authority: authority,
                            path: UnsafeRawBufferPointer(rebasing: target[..<mark]), query: query,
                            fields: HTTPRequestFieldLines(http2: list), version: .http2,
                            contentLength: endStream ? 0 : summary.contentLength))
                    }
                }
            }
        }
    }

    /// The value at `index` of `list` (an empty view for -1) lent to `body`.
    private static func view<Result>(
        _ list: HTTP2HeaderList, _ index: Int, _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        guard index >= 0 else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return list.withField(at: index) { _, value in body(value) }
    }
}
