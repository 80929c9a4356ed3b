public import EpsilonHTTP1
public import HTTPTypes
@_spi(EpsilonInternal) import EpsilonBytes

extension HTTPRequest {
    /// An owned request made from a head the HTTP/1.1 parser handed out.
    ///
    /// The target is split by its form (RFC 9112 §3.2): origin-form gives `path` (with the
    /// query) and takes `authority` from `Host`; absolute-form gives `scheme`, `authority` and
    /// `path`; authority-form (CONNECT) gives `authority` alone; asterisk-form gives `path` `*`.
    /// `scheme` stays `nil` for origin-form: only the server knows whether it runs TLS. `Host`
    /// is not kept among the fields (swift-http-types carries it as `authority`).
    /// - Parameters:
    ///   - head: the request head (`head.isRequest`).
    ///   - fields: its field lines, offsets into `bytes`.
    ///   - bytes: the buffer the head was parsed from.
    public init(
        http1Head head: HTTP1Head,
        fields: some Sequence<HTTP1Field>,
        in bytes: UnsafeRawBufferPointer
    ) throws(HTTPTypesBridgeError) {
        let methodText = String(decoding: bytes[head.method], as: UTF8.self)
        guard let method = HTTPRequest.Method(methodText) else {
            throw HTTPTypesBridgeError(.invalidMethod, detail: methodText)
        }
        let isConnect = methodText == "CONNECT"
        let target: HTTP1RequestTarget
        do {
            target = try HTTP1RequestTarget.split(bytes, head.target, isConnect: isConnect)
        } catch {
            throw HTTPTypesBridgeError(.invalidTarget, detail: String(decoding: bytes[head.target], as: UTF8.self))
        }
        var headerFields = HTTPFields()
        var host: String?
        for field in fields {
            let name = UnsafeRawBufferPointer(rebasing: bytes[field.name])
            // Host becomes `authority`, as swift-http-types keeps it (RFC 9113 §8.3.1 ¶7).
            if ASCII.equalsIgnoringCase(name, "host".utf8) {
                if host == nil { host = String(decoding: bytes[field.value], as: UTF8.self) }
                continue
            }
            try headerFields.append(name: name, value: UnsafeRawBufferPointer(rebasing: bytes[field.value]))
        }
        func text(_ range: Range<Int>?) -> String? { range.map { String(decoding: bytes[$0], as: UTF8.self) } }
        let scheme = text(target.scheme)
        let authority = text(target.authority) ?? (isConnect ? nil : host)
        var path: String?
        if !isConnect {
            // The path with its query, as HTTP/2's :path carries it (RFC 9113 §8.3.1).
            let raw = String(decoding: bytes[head.target], as: UTF8.self)
            if let pathRange = target.path {
                let end = target.query?.upperBound ?? pathRange.upperBound
                path = String(decoding: bytes[pathRange.lowerBound..<end], as: UTF8.self)
            } else if raw == "*" {
                path = "*"
            } else if let query = target.query {
                path = "/?" + String(decoding: bytes[query], as: UTF8.self)
            } else {
                path = "/"
            }
        }
        self.init(method: method, scheme: scheme, authority: authority, path: path, headerFields: headerFields)
    }
}

extension HTTPResponse {
    /// An owned response made from a head the HTTP/1.1 parser handed out (client role).
    ///
    /// The reason phrase is kept when it differs from the status code's usual one.
    public init(
        http1Head head: HTTP1Head,
        fields: some Sequence<HTTP1Field>,
        in bytes: UnsafeRawBufferPointer
    ) throws(HTTPTypesBridgeError) {
        try self.init(http1Head: head, fields: fields, in: bytes, valuesChecked: false)
    }

    /// As ``init(http1Head:fields:in:)``; `valuesChecked` says the machine already refused every
    /// value byte `HTTPField.isValidValue` refuses (no leniency let one through).
    package init(
        http1Head head: HTTP1Head,
        fields: some Sequence<HTTP1Field>,
        in bytes: UnsafeRawBufferPointer,
        valuesChecked: Bool
    ) throws(HTTPTypesBridgeError) {
        guard (100...999).contains(head.status) else {
            throw HTTPTypesBridgeError(.invalidStatus, detail: String(head.status))
        }
        var headerFields = HTTPFields()
        headerFields.reserveCapacity(fields.underestimatedCount)
        for field in fields {
            try headerFields.append(
                name: UnsafeRawBufferPointer(rebasing: bytes[field.name]),
                value: UnsafeRawBufferPointer(rebasing: bytes[field.value]),
                valueChecked: valuesChecked
            )
        }
        let reason = HTTPFields.text(UnsafeRawBufferPointer(rebasing: bytes[head.reason]))
        self.init(status: HTTPResponse.Status(code: head.status, reasonPhrase: reason), headerFields: headerFields)
    }

    /// Writes this response's status line and fields as an HTTP/1.1 head (ending with the blank
    /// line) into `buffer`. Framing fields are written as they are: the caller (or
    /// `HTTP1Connection`) decides `Content-Length` or chunked.
    /// - Throws: `HTTP1SerializeError` for a reason phrase or field the serializer refuses.
    public func writeHTTP1Head(into buffer: inout [UInt8]) throws(HTTP1SerializeError) {
        try HTTP1Serializer.writeStatusLine(status: status.code, reason: status.reasonPhrase, into: &buffer)
        for field in headerFields {
            try HTTP1Serializer.writeField(name: field.name.rawName, value: field.value, into: &buffer)
        }
        HTTP1Serializer.writeEndOfHead(into: &buffer)
    }
}

extension HTTPRequest {
    /// Writes this request as an HTTP/1.1 head (request line, `Host` from `authority`, the
    /// fields, the blank line) into `buffer` (RFC 9112 §3, §3.2: `Host` first).
    ///
    /// The target is the path (origin-form), or the authority for CONNECT (authority-form).
    /// - Throws: `HTTP1SerializeError` for a method, target or field the serializer refuses.
    public func writeHTTP1Head(into buffer: inout [UInt8]) throws(HTTP1SerializeError) {
        let target = method == .connect ? (authority ?? "") : (path ?? "/")
        try HTTP1Serializer.writeRequestLine(method: method.rawValue, target: target, into: &buffer)
        if let authority {
            try HTTP1Serializer.writeField(name: "Host", value: authority, into: &buffer)
        }
        for field in headerFields {
            try HTTP1Serializer.writeField(name: field.name.rawName, value: field.value, into: &buffer)
        }
        HTTP1Serializer.writeEndOfHead(into: &buffer)
    }
}
