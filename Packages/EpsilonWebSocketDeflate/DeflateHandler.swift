import EpsilonWebSocket

/// A ``WebSocketHandler`` that inflates compressed messages before passing them on.
///
/// Put it between a ``Connection`` configured with `allowsCompressedMessages` and your own
/// handler. For a compressed message it inflates the data as it arrives, checks text as UTF-8
/// on the inflated bytes (failing at the first bad byte), enforces the decompressor's
/// inflated-size limit and delivers `messageBegan(kind, compressed: false)`, `messageData`
/// pieces of inflated bytes and `messageEnded`. Uncompressed messages and control frames pass
/// through unchanged.
public struct DeflateHandler<Inner: WebSocketHandler>: WebSocketHandler {
    /// The handler that receives the inflated events.
    public var inner: Inner
    /// The decompressor (shared state: one per connection).
    public let decompressor: MessageDecompressor
    var compressedKind: MessageKind?
    var utf8 = UTF8Validator()

    /// Wraps `inner`, inflating with `decompressor`.
    public init(_ inner: Inner, decompressor: MessageDecompressor) {
        self.inner = inner
        self.decompressor = decompressor
    }

    /// Handles one event from the connection.
    public mutating func handle(_ event: WebSocketEvent) throws(WebSocketError) {
        switch event {
        case .messageBegan(let kind, compressed: true):
            compressedKind = kind
            utf8.reset()
            decompressor.reset()
            try inner.handle(.messageBegan(kind, compressed: false))
        case .messageData(let view) where compressedKind != nil:
            // On error the connection fails; the decompressor keeps its counters for inspection
            // and is reset when the next compressed message begins.
            try decompressor.decompress(view.bytes) { (piece) throws(WebSocketError) in try deliver(piece) }
        case .messageEnded where compressedKind != nil:
            try decompressor.finish { (piece) throws(WebSocketError) in try deliver(piece) }
            if compressedKind == .text && !utf8.isComplete { throw WebSocketError(.invalidUTF8) }
            compressedKind = nil
            try inner.handle(.messageEnded)
        default:
            try inner.handle(event)
        }
    }

    mutating func deliver(_ piece: UnsafeRawBufferPointer) throws(WebSocketError) {
        if compressedKind == .text, let bad = utf8.validate(piece) {
            throw WebSocketError(.invalidUTF8, offset: decompressor.inflatedCount - piece.count + bad)
        }
        try inner.handle(.messageData(PayloadView(piece)))
    }
}

extension Connection {
    /// Compresses `payload` as one message and appends its frames: RSV1 on the first frame
    /// only (RFC 7692 §6.1), fragments of at most `maxFragment` bytes if given.
    ///
    /// With a compressor that does not compress (8-bit window) the message goes out plain.
    public mutating func sendCompressed(_ kind: MessageKind, payload: UnsafeRawBufferPointer, compressor: MessageCompressor, maxFragment: Int? = nil, scratch: inout [UInt8], into output: inout [UInt8]) throws(WebSocketError) {
        scratch.removeAll(keepingCapacity: true)
        let compressed = compressor.isCompressing
        if compressed {
            compressor.compress(payload, into: &scratch)
        } else {
            scratch.append(contentsOf: payload)
        }
        let fragment = max(1, maxFragment ?? Int.max)
        let result: Result<Void, WebSocketError> = scratch.withUnsafeBytes { all in
            Result { () throws(WebSocketError) in
                var start = 0
                var first = true
                repeat {
                    let end = all.count - start > fragment ? start + fragment : all.count
                    let piece = UnsafeRawBufferPointer(rebasing: all[start..<end])
                    let fin = end == all.count
                    if first {
                        try send(kind, payload: piece, fin: fin, compressed: compressed, into: &output)
                        first = false
                    } else {
                        try sendContinuation(piece, fin: fin, into: &output)
                    }
                    start = end
                } while start < all.count
            }
        }
        try result.get()
    }
}
