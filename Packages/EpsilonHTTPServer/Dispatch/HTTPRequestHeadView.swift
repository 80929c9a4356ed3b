import EpsilonHTTP1
public import EpsilonHTTP2
public import EpsilonHTTPTypes
@_spi(EpsilonInternal) import EpsilonBytes

/// A received request head as borrowed byte views, in one shape for HTTP/1.1 and HTTP/2: what
/// an inline handler, the router and middleware read without copying.
///
/// Every view is valid only during the call that received it (an inline handler's call, a
/// middleware's `before`); copy what you keep (``HTTPRequestHeadView/string(_:)`` copies).
/// HTTP/1.1 `Host` is the authority; the scheme is `https` over TLS, else `http`.
public struct HTTPRequestHeadView {
    /// The method token (`GET`).
    public var method: UnsafeRawBufferPointer
    /// `http` or `https`.
    public var scheme: UnsafeRawBufferPointer
    /// The authority (HTTP/2 `:authority`, HTTP/1.1 `Host` or the absolute-form's authority); empty when absent.
    public var authority: UnsafeRawBufferPointer
    /// The path of the request target, without the query (`*` for `OPTIONS *`).
    public var path: UnsafeRawBufferPointer
    /// The query, without the `?`; nil when the target has none.
    public var query: UnsafeRawBufferPointer?
    /// The field lines (HTTP/2 pseudo-header fields are not among them).
    public var fields: HTTPRequestFieldLines
    /// The protocol the request came over.
    public var version: HTTPServerProtocolVersion
    /// The declared body length: 0 for none, nil when not known in advance (chunked, HTTP/2 DATA without content-length).
    public var contentLength: UInt64?

    /// Wraps the views of one head.
    public init(method: UnsafeRawBufferPointer, scheme: UnsafeRawBufferPointer, authority: UnsafeRawBufferPointer,
                path: UnsafeRawBufferPointer, query: UnsafeRawBufferPointer?, fields: HTTPRequestFieldLines,
                version: HTTPServerProtocolVersion, contentLength: UInt64?) {
        self.method = method
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.query = query
        self.fields = fields
        self.version = version
        self.contentLength = contentLength
    }

    /// Whether the method is `method` (byte for byte: methods are case-sensitive).
    public func isMethod(_ method: StaticString) -> Bool {
        self.method.elementsEqual(UnsafeRawBufferPointer(start: method.utf8Start, count: method.utf8CodeUnitCount))
    }

    /// The first value of the field named `name` (ignoring ASCII case), as a view; nil when absent.
    public func firstValue(of name: some StringProtocol) -> UnsafeRawBufferPointer? {
        var found: UnsafeRawBufferPointer?
        fields.forEachFieldLine { (fieldName: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) in
            if found == nil, ASCII.equalsIgnoringCase(fieldName, name.utf8) { found = value }
        }
        return found
    }

    /// A copy of a view as a `String` (invalid UTF-8 repaired).
    public func string(_ view: UnsafeRawBufferPointer) -> String {
        String(decoding: view, as: UTF8.self)
    }
}

/// The protocol a request arrived over.
public enum HTTPServerProtocolVersion: Sendable, Hashable, CustomStringConvertible {
    /// HTTP/1.0.
    case http1_0
    /// HTTP/1.1.
    case http1_1
    /// HTTP/2.
    case http2

    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2`.
    public var description: String {
        switch self {
        case .http1_0: "HTTP/1.0"
        case .http1_1: "HTTP/1.1"
        case .http2: "HTTP/2"
        }
    }
}

/// The field lines of a received head, HTTP/1.1 or HTTP/2, as borrowed views (no existential,
/// no copy: an enum over the two protocols' own shapes).
public struct HTTPRequestFieldLines: HTTPFieldLineViews {
    enum Storage {
        case http1(HTTP1FieldLines)
        case http2(HTTP2HeaderList)
        case none
    }

    let storage: Storage

    /// An HTTP/1.1 head's (or trailer section's) fields, valid while `bytes` is.
    public init(http1 fields: HTTP1FieldLines) { storage = .http1(fields) }
    /// An HTTP/2 header list (pseudo-header fields are skipped).
    public init(http2 list: HTTP2HeaderList) { storage = .http2(list) }
    /// No fields.
    public static var empty: HTTPRequestFieldLines { HTTPRequestFieldLines(storage: .none) }

    init(storage: Storage) { self.storage = storage }

    /// Calls `body` with each field line's name and value, in order, as views valid during the call.
    public func forEachFieldLine<Failure: Error>(
        _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        switch storage {
        case .http1(let lines): try lines.forEachFieldLine(body)
        case .http2(let list): try list.forEachFieldLine(body)
        case .none: break
        }
    }
}
