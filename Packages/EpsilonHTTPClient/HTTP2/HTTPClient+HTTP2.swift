import EpsilonHTTP2
import EpsilonHTTPTypes
import EpsilonTransport
import HTTPTypes

extension HTTPClient {
    /// Sends `attempt` on a new stream of `connection` (a slot the pool reserved) and waits for
    /// its response head; the body stays on the stream, read as the application asks.
    ///
    /// Any failure resets the stream (RST_STREAM(CANCEL) unless it finished) and frees its slot.
    func send(_ attempt: ClientAttempt, over connection: HTTP2ClientConnection) async throws(HTTPClientError) -> HTTPClientResponse {
        let timeouts = configuration.timeouts
        let sendsBody = attempt.body.map { $0.knownLength != 0 } ?? false
        let id = try connection.startStream(http2Fields(for: attempt), endStream: !sendsBody)
        let stream = HTTP2ClientStream(connection: connection, id: id)
        stream.watchdog.setRequestDeadline(attempt.deadline)
        do throws(HTTPClientError) {
            connection.flush()
            if let body = attempt.body, sendsBody {
                do {
                    try await write(body, on: stream)
                } catch {
                    // A server may answer before reading the whole body (RFC 9113 §8.1): keep
                    // its answer; otherwise the write's failure stands.
                    guard connection.headIfReceived(of: id) != nil else { throw error }
                }
            }
            stream.watchdog.startPhase(timeouts.responseHead, error: .responseHeadTimeout)
            let head = try await stream.head()
            let decoder = configuration.decompression
                ? try ResponseDecoding.decoder(for: head, method: attempt.request.method, limit: configuration.maxDecodedBodyBytes)
                : nil
            let source = ResponseBodySource(connection: nil, pool: nil, buffered: [], decoder: decoder,
                                            readTimeout: timeouts.read, http2: stream)
            return HTTPClientResponse(head: head, body: HTTPClientResponseBody(source: source), url: attempt.url.absoluteString,
                                      protocolVersion: .http2)
        } catch {
            stream.cancel()
            throw error
        }
    }

    /// The request's HTTP/2 header list: pseudo-header fields from the URL, then the fields
    /// (RFC 9113 §8.2.2's connection-specific ones dropped, `Host` carried as `:authority`),
    /// the jar's cookies, `accept-encoding` when decoding, and `content-length` when known.
    func http2Fields(for attempt: ClientAttempt) -> HTTP2HeaderList {
        var request = HTTPRequest(method: attempt.request.method, scheme: attempt.url.origin.scheme,
                                  authority: attempt.request.authority ?? attempt.url.origin.authority,
                                  path: attempt.url.pathAndQuery)
        var hasAcceptEncoding = false
        var cookies = attempt.cookies
        for field in attempt.request.headerFields {
            switch field.name {
            case .contentLength: continue
            case .acceptEncoding: hasAcceptEncoding = true
            case .cookie:
                // RFC 6265 §5.4: the caller's own pairs come first.
                if let jar = cookies {
                    cookies = field.value + "; " + jar
                    continue
                }
            default: if field.name.canonicalName == "host" { continue }
            }
            request.headerFields.append(field)
        }
        if let cookies { request.headerFields[.cookie] = cookies }
        if configuration.decompression && !hasAcceptEncoding { request.headerFields[.acceptEncoding] = "gzip, deflate" }
        if let length = attempt.body?.knownLength {
            request.headerFields[.contentLength] = String(length)
        } else if attempt.body == nil, [.post, .put, .patch].contains(attempt.request.method) {
            request.headerFields[.contentLength] = "0"
        }
        return HTTP2HeaderList(request)
    }

    /// Writes a request body on its stream under the peer's flow control, ending the stream.
    private func write(_ body: HTTPClientRequestBody, on stream: HTTP2ClientStream) async throws(HTTPClientError) {
        switch body.storage {
        case .bytes(let bytes):
            try await stream.send(bytes, endStream: true)
        case .stream(let length, _, let produce):
            guard body.claim() else { throw .invalidRequest("a one-shot body stream was already sent") }
            var writer = HTTPClientBodyWriter(stream: stream, expected: length)
            try await writer.run(produce)
            try await stream.send([], endStream: true)
        }
    }
}
