public import EpsilonHTTP1
public import EpsilonHTTP2
public import HTTPTypes
@_spi(EpsilonInternal) import EpsilonBytes

/// The field lines of a received head as borrowed byte views, in one shape for HTTP/1.1 and
/// HTTP/2, so that code reading fields (a router, a middleware, a log line) is written once and
/// copies nothing.
///
/// HTTP/1.1 heads conform through ``HTTP1FieldLines``, HTTP/2 header lists directly. HTTP/2
/// pseudo-header fields are not field lines here: they are the request's method, scheme,
/// authority and path.
public protocol HTTPFieldLineViews {
    /// Calls `body` with each field line's name and value, in the order received, as views
    /// valid only during the call.
    func forEachFieldLine<Failure: Error>(
        _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure)
}

/// The field lines of an HTTP/1.1 head: the parser's offsets and the buffer they point into.
///
/// Valid only while `bytes` is, that is during the handler call that received the head.
public struct HTTP1FieldLines: HTTPFieldLineViews {
    /// The field lines' offsets (`HTTP1Parser.fields`, `HTTP1Connection.fields`).
    public var fields: [HTTP1Field]
    /// The buffer the head was parsed from.
    public var bytes: UnsafeRawBufferPointer

    /// Wraps a head's field offsets and their buffer.
    public init(_ fields: [HTTP1Field], in bytes: UnsafeRawBufferPointer) {
        self.fields = fields
        self.bytes = bytes
    }

    /// Calls `body` with each field line's name and value, in order.
    public func forEachFieldLine<Failure: Error>(
        _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        for field in fields {
            try body(UnsafeRawBufferPointer(rebasing: bytes[field.name]), UnsafeRawBufferPointer(rebasing: bytes[field.value]))
        }
    }
}

extension HTTP2HeaderList: HTTPFieldLineViews {
    /// Calls `body` with each regular field's name and value, in order (pseudo-header fields
    /// are skipped).
    public func forEachFieldLine<Failure: Error>(
        _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        try forEach { (field: HPACKHeaderFieldView) throws(Failure) in
            if field.name.first != UInt8(ascii: ":") { try body(field.name, field.value) }
        }
    }
}

extension HTTPFieldLineViews {
    /// Whether a field named `name` (compared ignoring ASCII case) has exactly the value
    /// `value` (compared byte for byte), without copying either.
    public func containsField(named name: some StringProtocol, value: some StringProtocol) -> Bool {
        var found = false
        forEachFieldLine { (fieldName: UnsafeRawBufferPointer, fieldValue: UnsafeRawBufferPointer) in
            if !found, ASCII.equalsIgnoringCase(fieldName, name.utf8), fieldValue.elementsEqual(value.utf8) {
                found = true
            }
        }
        return found
    }
}

extension HTTPFields {
    /// Owned fields copied from a head's borrowed field lines (HTTP/1.1 or HTTP/2).
    /// - Throws: ``HTTPTypesBridgeError`` for a name or value swift-http-types cannot hold.
    public init(fieldLines: some HTTPFieldLineViews) throws(HTTPTypesBridgeError) {
        var fields = HTTPFields()
        try fieldLines.forEachFieldLine { (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(HTTPTypesBridgeError) in
            try fields.append(name: name, value: value)
        }
        self = fields
    }
}
