#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import EpsilonTransport
public import HTTPTypes

extension HTTPClient {
    /// Sends `request` (its `scheme`, `authority` and `path` say where) and returns the response
    /// once its head arrived; read the body from ``HTTPClientResponse/body``.
    ///
    /// The request is retried and redirected according to the configuration. A body stream
    /// given with ``HTTPClientRequestBody/stream(_:length:)`` is sent at most once.
    public func execute(_ request: HTTPRequest, body: HTTPClientRequestBody? = nil) async throws(HTTPClientError) -> HTTPClientResponse {
        guard let authority = request.authority else { throw .invalidURL("a request without an authority") }
        let url = try ClientURL(scheme: request.scheme ?? "https", authority: authority, path: request.path ?? "/")
        let deadline = configuration.timeouts.request.map { MonotonicClock.now() &+ $0.nanoseconds }
        return try await follow(ClientAttempt(request: request, url: url, body: body, deadline: deadline))
    }

    /// Sends a request with `method` to `url` with `headers` and an optional body.
    public func execute(_ method: HTTPRequest.Method, _ url: String, headers: [String: String] = [:],
                        body: HTTPClientRequestBody? = nil) async throws(HTTPClientError) -> HTTPClientResponse {
        // The URL is parsed once (``execute(_:body:)`` would parse the request's parts again).
        let parsed = try ClientURL(url)
        let request = try request(method, parsed, headers: headers)
        let deadline = configuration.timeouts.request.map { MonotonicClock.now() &+ $0.nanoseconds }
        return try await follow(ClientAttempt(request: request, url: parsed, body: body, deadline: deadline))
    }

    /// `GET url`.
    public func get(_ url: String, headers: [String: String] = [:]) async throws(HTTPClientError) -> HTTPClientResponse {
        try await execute(.get, url, headers: headers)
    }

    /// `POST url` with `body`.
    public func post(_ url: String, headers: [String: String] = [:],
                     body: HTTPClientRequestBody) async throws(HTTPClientError) -> HTTPClientResponse {
        try await execute(.post, url, headers: headers, body: body)
    }

    /// `POST url` with `value` encoded as JSON (`Content-Type: application/json` unless
    /// `headers` names one).
    public func post(_ url: String, json value: some Encodable, headers: [String: String] = [:]) async throws(HTTPClientError) -> HTTPClientResponse {
        let encoded: Data
        do {
            encoded = try JSONEncoder().encode(value)
        } catch {
            throw .invalidRequest("JSON encoding failed: \(error)")
        }
        var headers = headers
        if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) { headers["Content-Type"] = "application/json" }
        return try await execute(.post, url, headers: headers, body: .bytes(Array(encoded)))
    }

    /// A request for `url` (absolute http or https) with `headers`, as ``execute(_:body:)`` takes it.
    public func request(_ method: HTTPRequest.Method, _ url: String, headers: [String: String] = [:]) throws(HTTPClientError) -> HTTPRequest {
        try request(method, try ClientURL(url), headers: headers)
    }

    /// A request for the parsed `url` with `headers`.
    private func request(_ method: HTTPRequest.Method, _ parsed: ClientURL, headers: [String: String]) throws(HTTPClientError) -> HTTPRequest {
        var fields = HTTPFields()
        for (name, value) in headers {
            guard let fieldName = HTTPField.Name(name) else { throw .invalidRequest("invalid field name \(name)") }
            guard HTTPField.isValidValue(value) else { throw .invalidRequest("invalid value for field \(name)") }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return HTTPRequest(method: method, scheme: parsed.origin.scheme, authority: parsed.authority,
                           path: parsed.pathAndQuery, headerFields: fields)
    }
}
