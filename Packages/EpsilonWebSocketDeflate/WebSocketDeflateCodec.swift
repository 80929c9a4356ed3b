import CZlib
@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonWebSocket

/// The empty stored block a sync flush ends with; stripped by the sender, re-added by the
/// receiver (RFC 7692 §7.2.1, §7.2.2).
let syncFlushTrailer: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

/// Compresses message payloads for permessage-deflate (RFC 7692 §7.2.1).
///
/// Owns a zlib stream (raw deflate). Not `Sendable`: one compressor belongs to one connection.
/// With context takeover the LZ77 window carries over between messages; without it the
/// stream is reset after each message.
///
/// zlib refuses a raw-deflate window of 8 bits (it silently uses 9, which a peer limited to
/// 8 could not inflate). So when the negotiated window is 8, ``isCompressing`` is false and
/// messages go out uncompressed (RSV1 clear), which RFC 7692 §6 allows.
public final class WebSocketDeflateCompressor {
    let stream: UnsafeMutablePointer<z_stream>
    /// Whether messages are compressed at all (false for an 8-bit window).
    public let isCompressing: Bool
    /// Whether the window is reset after each message.
    public let noContextTakeover: Bool
    var scratch: [UInt8]
    // The compressed message being sent (see `WebSocketConnection.sendCompressed`), kept
    // between messages so compressing allocates nothing in steady state.
    var message: [UInt8] = []

    /// Creates a compressor.
    ///
    /// - Parameters:
    ///   - windowBits: the negotiated window for this end's sending direction (8–15).
    ///   - noContextTakeover: reset after each message.
    ///   - level: the zlib compression level (1–9, default 6... use lower for speed).
    ///   - memoryLevel: zlib's memLevel (1–9, default 8).
    public init(windowBits: Int, noContextTakeover: Bool, level: Int32 = 6, memoryLevel: Int32 = 8) {
        precondition((8...15).contains(windowBits), "window bits must be 8...15")
        self.noContextTakeover = noContextTakeover
        self.isCompressing = windowBits > 8
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        scratch = [UInt8](repeating: 0, count: 16 * 1024)
        if isCompressing {
            let result = epsilon_deflateInit2(stream, level, -Int32(windowBits), memoryLevel, Z_DEFAULT_STRATEGY)
            precondition(result == Z_OK, "deflateInit2 failed: \(result)")
        }
    }

    /// Creates the compressor for the end playing `role` under `parameters`.
    ///
    /// - Parameter memoryLevel: zlib's memLevel; nil (the default) picks it from the sending
    ///   window with ``memoryLevel(forWindowBits:)``.
    public convenience init(parameters: WebSocketDeflateParameters, role: WebSocketRole, level: Int32 = 6, memoryLevel: Int32? = nil) {
        let windowBits = parameters.sendingWindowBits(as: role)
        self.init(windowBits: windowBits, noContextTakeover: parameters.sendsWithoutContextTakeover(as: role), level: level,
                  memoryLevel: memoryLevel ?? Self.memoryLevel(forWindowBits: windowBits))
    }

    /// The zlib memLevel that suits a window of `windowBits`.
    ///
    /// memLevel sizes deflate's hash table (2^(memLevel+7) entries) and its literal buffer.
    /// With a small window a large table buys nothing (matches can only reach back 2^windowBits
    /// bytes) and costs a lot: the whole table is cleared on every `deflateReset` (each message
    /// without context takeover) and most of it misses the cache. The table:
    ///
    /// | windowBits | 8–9 | 10 | 11 | 12 | 13 | 14 | 15 |
    /// |---|---|---|---|---|---|---|---|
    /// | memLevel   | 1   | 2  | 3  | 4  | 5  | 6  | 8 (zlib's default) |
    public static func memoryLevel(forWindowBits windowBits: Int) -> Int32 {
        windowBits >= 15 ? 8 : Int32(max(1, min(6, windowBits - 8)))
    }

    deinit {
        if isCompressing { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Appends the compressed payload of a whole message to `output`, without the trailing
    /// `00 00 ff ff` (RFC 7692 §7.2.1). An empty message compresses to a single `00` byte.
    ///
    /// Requires ``isCompressing``.
    public func compress(_ message: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        precondition(isCompressing, "compressor is disabled for an 8-bit window")
        let start = output.count
        stream.pointee.next_in = UnsafeMutablePointer(mutating: message.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(message.count)
        scratch.withUnsafeMutableBytes { buffer in
            let out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
            repeat {
                stream.pointee.next_out = out
                stream.pointee.avail_out = uInt(buffer.count)
                let result = deflate(stream, Z_SYNC_FLUSH)
                precondition(result == Z_OK || result == Z_BUF_ERROR, "deflate failed: \(result)")
                let produced = buffer.count - Int(stream.pointee.avail_out)
                output.append(contentsOf: UnsafeRawBufferPointer(start: buffer.baseAddress, count: produced))
            } while stream.pointee.avail_out == 0
        }
        stream.pointee.next_in = nil
        // A sync flush always ends with the empty stored block 00 00 ff ff.
        let end = output.count
        if end - start >= 4 && output[end - 4] == 0x00 && output[end - 3] == 0x00 && output[end - 2] == 0xFF && output[end - 1] == 0xFF {
            output.removeLast(4)
        }
        if output.count == start { output.append(0) }
        if noContextTakeover { deflateReset(stream) }
    }

    /// Compresses an array's bytes (convenience).
    public func compress(_ message: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        message.withUnsafeBytes { compress($0, into: &output) }
        return output
    }
}

/// Inflates permessage-deflate messages with a bound on each message's inflated size.
///
/// Feed each compressed message piece by piece as it arrives (control frames may come
/// between the fragments), then ``finish(_:)`` at its end; inflated bytes are handed out in
/// pieces of at most 16 KiB. When a message's inflated size would pass `maxMessageSize` the
/// decompressor throws ``WebSocketError/Rule/messageTooLarge`` at once: a decompression bomb
/// costs at most the limit plus one piece of work. Its errors carry offset 0, since it does
/// not see the stream; ``WebSocketDeflateHandler`` sets the offset of the frame at fault.
///
/// It always inflates with a 15-bit window: a larger window decodes any stream made with a
/// smaller one, and it also accepts peers whose zlib used 9 bits when 8 was negotiated.
public final class WebSocketDeflateDecompressor {
    let stream: UnsafeMutablePointer<z_stream>
    /// Whether the window is reset after each message.
    public let noContextTakeover: Bool
    /// The largest inflated message accepted.
    public let maxMessageSize: Int
    // Output and dictionary buffers owned by this object for its lifetime (allocated once,
    // freed in deinit), so inflating allocates nothing per message.
    let scratch: UnsafeMutableBufferPointer<Bytef>
    let dictionary: UnsafeMutableBufferPointer<Bytef>
    /// The inflated size of the current message so far.
    public private(set) var inflatedCount = 0
    // The deflate stream ended (BFINAL) inside this message: ignore its remaining bytes.
    var streamEnded = false

    /// Creates a decompressor.
    public init(noContextTakeover: Bool, maxMessageSize: Int = 16 << 20) {
        self.noContextTakeover = noContextTakeover
        self.maxMessageSize = maxMessageSize
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        scratch = .allocate(capacity: 16 * 1024)
        dictionary = .allocate(capacity: 32 * 1024)
        let result = epsilon_inflateInit2(stream, -15)
        precondition(result == Z_OK, "inflateInit2 failed: \(result)")
    }

    /// Creates the decompressor for the end playing `role` under `parameters`.
    public convenience init(parameters: WebSocketDeflateParameters, role: WebSocketRole, maxMessageSize: Int = 16 << 20) {
        self.init(noContextTakeover: parameters.receivesWithoutContextTakeover(as: role), maxMessageSize: maxMessageSize)
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
        dictionary.deallocate()
    }

    /// Inflates the next piece of the current message; `body` gets the inflated pieces.
    public func decompress(_ compressed: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws(WebSocketError) -> Void) throws(WebSocketError) {
        try run(compressed, body)
    }

    /// Ends the current message: inflates the re-added `00 00 ff ff` and resets the counters
    /// (and the window without context takeover).
    public func finish(_ body: (UnsafeRawBufferPointer) throws(WebSocketError) -> Void) throws(WebSocketError) {
        try syncFlushTrailer.withBytes { (trailer) throws(WebSocketError) in try run(trailer, body) }
        reset()
    }

    /// Abandons the current message (after an error) and starts clean.
    public func reset() {
        inflatedCount = 0
        if noContextTakeover || streamEnded {
            if streamEnded && !noContextTakeover {
                restartKeepingWindow()
            } else {
                inflateReset(stream)
            }
        }
        streamEnded = false
    }

    // After BFINAL zlib needs a reset; with context takeover the window must survive it.
    func restartKeepingWindow() {
        var length: uInt = 0
        _ = inflateGetDictionary(stream, dictionary.baseAddress, &length)
        inflateReset(stream)
        if length > 0 { _ = inflateSetDictionary(stream, dictionary.baseAddress, length) }
    }

    func run(_ input: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws(WebSocketError) -> Void) throws(WebSocketError) {
        if streamEnded || input.isEmpty { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        defer { stream.pointee.next_in = nil; stream.pointee.avail_in = 0 }
        let capacity = scratch.count
        let out = scratch.baseAddress!
        while true {
            stream.pointee.next_out = out
            stream.pointee.avail_out = uInt(capacity)
            let status = inflate(stream, Z_SYNC_FLUSH)
            let produced = capacity - Int(stream.pointee.avail_out)
            switch status {
            case Z_OK, Z_STREAM_END, Z_BUF_ERROR:
                break
            default:
                throw WebSocketError(.invalidCompressedData, offset: 0)
            }
            if produced > 0 {
                inflatedCount += produced
                if inflatedCount > maxMessageSize { throw WebSocketError(.messageTooLarge, offset: 0) }
                try body(UnsafeRawBufferPointer(start: out, count: produced))
            }
            if status == Z_STREAM_END {
                streamEnded = true
                return
            }
            // Done when the input is used up and zlib did not fill the output.
            if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
            if status == Z_BUF_ERROR && produced == 0 { return }
        }
    }
}
