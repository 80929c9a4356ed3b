import EpsilonHTTPContentCoding
import HTTPTypes

/// Transparent `Content-Encoding` decoding of response bodies.
enum ResponseDecoding {
    /// A decoder for the response's `Content-Encoding` (gzip or deflate), bounded to `limit`
    /// decoded bytes; nil for identity, for a HEAD response, or for a coding the client leaves
    /// alone (the body is then handed out as received, the field telling the caller).
    static func decoder(for head: HTTPResponse, method: HTTPRequest.Method, limit: Int) throws(HTTPClientError) -> HTTPContentDecoder? {
        guard method != .head, head.status.code != 204, head.status.code != 304,
              let value = head.headerFields[.contentEncoding] else { return nil }
        var token = value[...]
        while let first = token.first, first == " " || first == "\t" { token.removeFirst() }
        while let last = token.last, last == " " || last == "\t" { token.removeLast() }
        guard let coding = HTTPContentCoding(String(token)), coding != .identity else { return nil }
        do {
            return try HTTPContentDecoder(coding: coding, maxOutputBytes: limit)
        } catch {
            throw .decodingFailed("\(error)")
        }
    }

    /// Decodes one received chunk into `output`.
    static func decode(_ chunk: [UInt8], with decoder: HTTPContentDecoder, into output: inout [UInt8]) throws(HTTPClientError) {
        // A Result rather than a typed-throws closure: swift-frontend 6.3.1 crashes on the latter here.
        let decoded = chunk.withUnsafeBytes { bytes -> Result<Void, HTTPContentCodingError> in
            do throws(HTTPContentCodingError) {
                try decoder.decode(bytes, into: &output)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = decoded { throw .decodingFailed("\(error)") }
    }

    /// The body ended: a stream that did not finish is an error.
    static func finish(_ decoder: HTTPContentDecoder) throws(HTTPClientError) {
        do {
            try decoder.finish()
        } catch {
            throw .decodingFailed("\(error)")
        }
    }
}
