public import HTTPTypes

/// A response: its head, and its body as a stream to read once.
///
/// ```swift
/// let response = try await client.get("https://example.com/data")
/// print(response.status)
/// for try await chunk in response.body { consume(chunk) }   // or: try await response.body.collect(upTo: 1 << 20)
/// ```
public struct HTTPClientResponse: Sendable {
    /// The final response head (after redirects; interim 1xx heads are not kept).
    public var head: HTTPResponse
    /// The body, decoded when it had a `Content-Encoding` the client decodes.
    public var body: HTTPClientResponseBody
    /// The URL that gave this response (the last one of a redirect chain).
    public var url: String
    /// The protocol the final response came over (ALPN's choice, or prior knowledge).
    public var protocolVersion: HTTPClientProtocolVersion = .http1_1

    /// The status.
    public var status: HTTPResponse.Status { head.status }
    /// The header fields.
    public var headerFields: HTTPFields { head.headerFields }
}
