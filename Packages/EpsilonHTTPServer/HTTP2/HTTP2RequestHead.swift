import EpsilonHTTP2
import EpsilonHTTPTypes

/// A request head received on an HTTP/2 stream as borrowed views: the pseudo-header fields
/// (RFC 9113 §8.3.1) split out, `:path` split at `?`, and the regular fields as
/// ``HTTPFieldLineViews``. Valid only during the call that hands it out.
struct HTTP2RequestHead {
    var method: UnsafeRawBufferPointer
    var scheme: UnsafeRawBufferPointer
    /// `:authority`, or the `host` field when the request has no `:authority` (§8.3.1).
    var authority: UnsafeRawBufferPointer
    /// `:path` up to `?` (empty for CONNECT, which has no `:path`).
    var path: UnsafeRawBufferPointer
    /// What follows `?` in `:path`, without it; empty when there is none.
    var query: UnsafeRawBufferPointer
    /// `:protocol` of an extended CONNECT (RFC 8441), empty otherwise.
    var extendedProtocol: UnsafeRawBufferPointer
    /// The regular fields (pseudo-header fields skipped).
    var fields: HTTP2HeaderList

    /// Whether the method is `HEAD` (its response has no body).
    var isHead: Bool { method.elementsEqual("HEAD".utf8) }

    /// Calls `body` with the head of the request `list` holds. The machine has checked the
    /// pseudo-header rules (each at most once, none unknown, the required ones present).
    static func with<Result>(_ list: HTTP2HeaderList, _ body: (HTTP2RequestHead) -> Result) -> Result {
        var indices = PseudoIndices()
        var index = 0
        while index < list.count {
            list.withField(at: index) { name, _ in indices.record(name, at: index) }
            index &+= 1
        }
        return view(list, indices.method) { method in
            view(list, indices.scheme) { scheme in
                view(list, indices.authority >= 0 ? indices.authority : indices.host) { authority in
                    view(list, indices.path) { target in
                        view(list, indices.extendedProtocol) { extendedProtocol in
                            let mark = target.firstIndex(of: UInt8(ascii: "?")) ?? target.count
                            let query = mark < target.count
                                ? UnsafeRawBufferPointer(rebasing: target[(mark &+ 1)...]) : UnsafeRawBufferPointer(start: nil, count: 0)
                            return body(HTTP2RequestHead(
                                method: method, scheme: scheme, authority: authority,
                                path: UnsafeRawBufferPointer(rebasing: target[..<mark]), query: query,
                                extendedProtocol: extendedProtocol, fields: list))
                        }
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

    /// Where each pseudo-header field (and `host`) sits in a header list; -1 when absent.
    private struct PseudoIndices {
        var method = -1, scheme = -1, authority = -1, path = -1, extendedProtocol = -1, host = -1

        mutating func record(_ name: UnsafeRawBufferPointer, at index: Int) {
            if name.first != UInt8(ascii: ":") {
                if host < 0, name.elementsEqual("host".utf8) { host = index }
                return
            }
            if name.elementsEqual(":method".utf8) { method = index }
            else if name.elementsEqual(":scheme".utf8) { scheme = index }
            else if name.elementsEqual(":authority".utf8) { authority = index }
            else if name.elementsEqual(":path".utf8) { path = index }
            else if name.elementsEqual(":protocol".utf8) { extendedProtocol = index }
        }
    }
}
