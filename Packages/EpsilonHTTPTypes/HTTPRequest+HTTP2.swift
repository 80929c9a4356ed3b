public import EpsilonHTTP2
public import HTTPTypes

extension HTTPRequest {
    /// An owned request made from a header list the HTTP/2 machine handed out (RFC 9113 §8.3.1).
    ///
    /// The machine has already checked the pseudo-header rules; this reads `:method`, `:scheme`,
    /// `:authority`, `:path` and `:protocol` (RFC 8441) and keeps every other field.
    /// - Throws: ``HTTPTypesBridgeError`` when `:method` is missing or unnamed, or a field is
    ///   one swift-http-types cannot hold.
    public init(http2Fields list: HTTP2HeaderList) throws(HTTPTypesBridgeError) {
        var method: String?
        var scheme: String?
        var authority: String?
        var path: String?
        var extendedConnectProtocol: String?
        var headerFields = HTTPFields()
        try list.forEach { (field: HPACKHeaderFieldView) throws(HTTPTypesBridgeError) in
            guard field.name.first == UInt8(ascii: ":") else {
                try headerFields.append(name: field.name, value: field.value)
                return
            }
            let value = field.valueString
            switch field.nameString {
            case ":method" where method == nil: method = value
            case ":scheme" where scheme == nil: scheme = value
            case ":authority" where authority == nil: authority = value
            case ":path" where path == nil: path = value
            case ":protocol" where extendedConnectProtocol == nil: extendedConnectProtocol = value
            default: throw HTTPTypesBridgeError(.unexpectedPseudoHeader, detail: field.nameString)
            }
        }
        guard let methodText = method else { throw HTTPTypesBridgeError(.missingPseudoHeader, detail: ":method") }
        guard let parsed = HTTPRequest.Method(methodText) else {
            throw HTTPTypesBridgeError(.invalidMethod, detail: methodText)
        }
        self.init(method: parsed, scheme: scheme, authority: authority, path: path, headerFields: headerFields)
        if let extendedConnectProtocol { self.extendedConnectProtocol = extendedConnectProtocol }
    }
}

extension HTTPResponse {
    /// An owned response made from a header list the HTTP/2 machine handed out (client role).
    /// - Throws: ``HTTPTypesBridgeError`` when `:status` is missing or not three digits.
    public init(http2Fields list: HTTP2HeaderList) throws(HTTPTypesBridgeError) {
        var status: Int?
        var headerFields = HTTPFields()
        try list.forEach { (field: HPACKHeaderFieldView) throws(HTTPTypesBridgeError) in
            guard field.name.first == UInt8(ascii: ":") else {
                try headerFields.append(name: field.name, value: field.value)
                return
            }
            guard field.nameString == ":status", status == nil,
                  field.value.count == 3, let code = Int(field.valueString), (100...999).contains(code)
            else { throw HTTPTypesBridgeError(.unexpectedPseudoHeader, detail: field.nameString) }
            status = code
        }
        guard let status else { throw HTTPTypesBridgeError(.missingPseudoHeader, detail: ":status") }
        self.init(status: HTTPResponse.Status(code: status), headerFields: headerFields)
    }
}

extension HTTP2HeaderList {
    /// The header list that sends `request` over HTTP/2: pseudo-header fields first, in the
    /// order RFC 9113 §8.3.1 lists them, then the fields with lower-case names, without the
    /// connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2).
    public init(_ request: HTTPRequest) {
        self.init()
        for field in request.pseudoHeaderFields.http2Order {
            append(name: field.name.rawName, value: field.value)
        }
        appendFieldsAllowedInHTTP2(request.headerFields)
    }

    /// The header list that sends `response` over HTTP/2: `:status`, then the fields, without
    /// the connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2).
    public init(_ response: HTTPResponse) {
        self.init()
        append(name: ":status", value: String(response.status.code))
        appendFieldsAllowedInHTTP2(response.headerFields)
    }

    /// Appends `fields` but the connection-specific ones (RFC 9113 §8.2.2): `Connection`,
    /// `Keep-Alive`, `Proxy-Connection`, `Transfer-Encoding`, `Upgrade`, and `TE` unless it is
    /// `trailers`. An HTTP/1.1 message converted for HTTP/2 would otherwise be malformed.
    private mutating func appendFieldsAllowedInHTTP2(_ fields: HTTPFields) {
        for field in fields {
            let name = field.name.canonicalName
            switch name {
            case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade": continue
            case "te" where field.value.lowercased() != "trailers": continue
            default: append(name: name, value: field.value)
            }
        }
    }
}

extension HTTPRequest.PseudoHeaderFields {
    /// The pseudo-header fields present, in RFC 9113 §8.3.1's order.
    fileprivate var http2Order: [HTTPField] {
        [method] + [scheme, authority, path, extendedConnectProtocol].compactMap { $0 }
    }
}
