public import EpsilonHTTPContentCoding

/// Compresses response bodies with gzip or deflate (zlib) when the request's
/// `Accept-Encoding` allows it (RFC 9110 §12.5.3) and the body is at least `minimumSize`
/// bytes (or streamed); adds `Content-Encoding` and `Vary: Accept-Encoding`, drops the length
/// (the compressed body is streamed). Responses that already carry a `Content-Encoding`,
/// are not 200/201/203, or have a type in `skippedTypes` pass unchanged. A streamed body is
/// flushed after each piece so the client can decode as it arrives.
public struct HTTPCompressionMiddleware: HTTPMiddleware {
    /// One response's coding state.
    public struct State {
        var coding: HTTPContentCoding = .identity
        var encoder: HTTPContentEncoder?
        var streamed = false
        var output: [UInt8] = []
    }

    /// Bodies shorter than this go out as they are.
    public let minimumSize: Int
    /// The codings offered, in preference order.
    public let codings: [HTTPContentCoding]
    /// zlib's level (1 fastest … 9 smallest).
    public let level: Int32
    /// Content types (prefixes, lowercase) never compressed: already compressed media.
    public let skippedTypes: [String]

    /// Compresses bodies of at least `minimumSize` bytes (default 1 KiB) with gzip or deflate.
    public init(minimumSize: Int = 1024, codings: [HTTPContentCoding] = [.gzip, .deflate], level: Int32 = 6,
                skippedTypes: [String] = ["image/", "video/", "audio/", "application/zip", "application/gzip"]) {
        self.minimumSize = minimumSize
        self.codings = codings
        self.level = level
        self.skippedTypes = skippedTypes
    }

    /// Identity until negotiated.
    public func makeState() -> State { State() }

    /// Negotiates from `Accept-Encoding`.
    public func receive(_ request: HTTPRequestHeadView, state: inout State, context: inout HTTPMiddlewareContext) -> HTTPFixedResponse? {
        if let accept = request.firstValue(of: "accept-encoding") {
            state.coding = HTTPAcceptEncoding.negotiate(accept, supported: codings) ?? .identity
        }
        return nil
    }

    /// Decides whether this response is compressed.
    public func responseHead(_ head: inout HTTPResponseHeadParts, state: inout State) {
        guard head.status == 200 || head.status == 201 || head.status == 203 else { return }
        if let length = head.bodyLength, length < UInt64(minimumSize) { return }
        if let type = head.value(of: "content-type")?.lowercased(), skippedTypes.contains(where: { type.hasPrefix($0) }) { return }
        head.fields.append((name: "Vary", value: "Accept-Encoding"))
        guard state.coding != .identity, head.value(of: "content-encoding") == nil,
              let encoder = try? HTTPContentEncoder(coding: state.coding, level: level) else { return }
        state.encoder = encoder
        state.streamed = head.bodyLength == nil
        head.fields.append((name: "Content-Encoding", value: state.coding.token))
        head.bodyLength = nil
    }

    /// Compresses a piece.
    public func responseBody(_ bytes: UnsafeRawBufferPointer, state: inout State, emit: (UnsafeRawBufferPointer) -> Void) {
        guard let encoder = state.encoder else {
            emit(bytes)
            return
        }
        state.output.removeAll(keepingCapacity: true)
        do {
            try encoder.encode(bytes, into: &state.output)
            if state.streamed { try encoder.flush(into: &state.output) }
        } catch {
            // zlib only fails on a broken stream state: end the body rather than send garbage.
            state.encoder = nil
            return
        }
        state.output.withUnsafeBytes { emit($0) }
    }

    /// Finishes the compressed stream.
    public func responseEnd(state: inout State, emit: (UnsafeRawBufferPointer) -> Void) {
        guard let encoder = state.encoder else { return }
        state.output.removeAll(keepingCapacity: true)
        try? encoder.finish(into: &state.output)
        state.encoder = nil
        state.output.withUnsafeBytes { emit($0) }
    }
}
