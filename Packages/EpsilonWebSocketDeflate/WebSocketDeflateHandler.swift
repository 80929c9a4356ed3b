@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonWebSocket

/// A ``WebSocketEventHandler`` that inflates compressed messages before passing them on.
///
/// Put it between a ``WebSocketConnection`` configured with `allowsCompressedMessages` and your own
/// handler. For a compressed message it inflates the data as it arrives, checks text as UTF-8
/// on the inflated bytes (failing at the first bad byte), enforces the decompressor's
/// inflated-size limit and delivers `messageBegan(kind, compressed: false)`, `messageData`
/// pieces of inflated bytes and `messageEnded`. Uncompressed messages and control frames pass
/// through unchanged.
public struct WebSocketDeflateHandler<Inner: WebSocketEventHandler>: WebSocketEventHandler {
    /// The handler that receives the inflated events.
    public var inner: Inner
    /// The decompressor (shared state: one per connection).
    public let decompressor: WebSocketDeflateDecompressor
    var compressedKind: WebSocketMessageKind?
    var utf8 = WebSocketUTF8Validator()

    /// Wraps `inner`, inflating with `decompressor`.
    public init(_ inner: Inner, decompressor: WebSocketDeflateDecompressor) {
        self.inner = inner
        self.decompressor = decompressor
    }

    /// Handles one event from the connection, passing `connection` on to the inner handler.
    public mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) {
        switch event {
        case .messageBegan(let kind, compressed: true):
            compressedKind = kind
            utf8.reset()
            decompressor.reset()
            try inner.handle(.messageBegan(kind, compressed: false), connection: &connection)
        case .messageData(let view) where compressedKind != nil:
            // On error the connection fails; the decompressor keeps its counters for inspection
            // and is reset when the next compressed message begins.
            do throws(WebSocketError) {
                try decompressor.decompress(view.bytes) { (piece) throws(WebSocketError) in try deliver(piece, connection: &connection) }
            } catch {
                throw located(error, connection)
            }
        case .messageEnded where compressedKind != nil:
            do throws(WebSocketError) {
                try decompressor.finish { (piece) throws(WebSocketError) in try deliver(piece, connection: &connection) }
                if compressedKind == .text && !utf8.isComplete { throw WebSocketError(.invalidUTF8, offset: 0) }
            } catch {
                throw located(error, connection)
            }
            compressedKind = nil
            try inner.handle(.messageEnded, connection: &connection)
        default:
            try inner.handle(event, connection: &connection)
        }
    }

    // The decompressor and the inflated text do not map to received bytes: errors found there
    // point at the start of the frame that carried them.
    func located(_ error: WebSocketError, _ connection: WebSocketConnection) -> WebSocketError {
        switch error.rule {
        case .invalidCompressedData, .messageTooLarge, .invalidUTF8:
            return WebSocketError(error.rule, offset: connection.currentFrameOffset)
        default:
            return error
        }
    }

    mutating func deliver(_ piece: UnsafeRawBufferPointer, connection: inout WebSocketConnection) throws(WebSocketError) {
        if compressedKind == .text, utf8.validate(piece) != nil {
            throw WebSocketError(.invalidUTF8, offset: 0)
        }
        try inner.handle(.messageData(WebSocketPayloadView(piece)), connection: &connection)
    }
}

extension WebSocketConnection {
    /// Compresses `payload` as one message and sends its frames: RSV1 on the first frame
    /// only (RFC 7692 §6.1), fragments of at most `maxFragment` bytes if given.
    ///
    /// The compressed bytes go through a buffer the compressor keeps, so steady-state sending
    /// allocates nothing. With a compressor that does not compress (8-bit window) the message
    /// goes out plain.
    public mutating func sendCompressed(_ kind: WebSocketMessageKind, payload: UnsafeRawBufferPointer, compressor: WebSocketDeflateCompressor, maxFragment: Int? = nil) throws(WebSocketUsageError) {
        // Refuse before compressing: a message that cannot be sent must not move the window.
        guard canStartMessage else { throw .sendNotAllowed }
        if compressor.isCompressing && !configuration.allowsCompressedMessages { throw .compressionNotNegotiated }
        var message = compressor.message
        compressor.message = []
        defer { compressor.message = message }
        message.removeAll(keepingCapacity: true)
        let compressed = compressor.isCompressing
        if compressed {
            compressor.compress(payload, into: &message)
        } else {
            message.append(contentsOf: payload)
        }
        let fragment = max(1, maxFragment ?? Int.max)
        try message.withBytes { (all) throws(WebSocketUsageError) in
            var start = 0
            var first = true
            repeat {
                let end = all.count - start > fragment ? start + fragment : all.count
                let piece = UnsafeRawBufferPointer(rebasing: all[start..<end])
                let fin = end == all.count
                if first {
                    try send(kind, payload: piece, fin: fin, compressed: compressed)
                    first = false
                } else {
                    try sendContinuation(piece, fin: fin)
                }
                start = end
            } while start < all.count
        }
    }
}
