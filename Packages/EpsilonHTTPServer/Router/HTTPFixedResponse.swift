/// A response built once and sent as is: status, fields and body are stored, so answering
/// with it allocates nothing per request (the session adds `Date`, `Server` and the framing).
///
/// ```swift
/// let hello = HTTPFixedResponse(status: 200, contentType: "text/plain", body: "Hello, World!")
/// try router.get("/hello", fixed: hello)
/// ```
public struct HTTPFixedResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The fields (no `Content-Length`, `Transfer-Encoding` or `Connection`: the server frames).
    public var fields: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    /// A response with these parts.
    public init(status: Int, fields: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.fields = fields
        self.body = body
    }

    /// A response with a `Content-Type` and a text body.
    public init(status: Int, contentType: String, body: String, fields: [(name: String, value: String)] = []) {
        self.init(status: status, fields: [("Content-Type", contentType)] + fields, body: Array(body.utf8))
    }
}
