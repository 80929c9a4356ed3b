import CZlib

/// Compresses a body with gzip or deflate (zlib format), piece by piece.
///
/// A class because zlib's stream keeps pointers into itself: it needs a stable address.
/// Not `Sendable`: one encoder belongs to one response. Call ``encode(_:into:)`` for each
/// piece, ``flush(into:)`` when the peer should be able to decode what was sent so far
/// (streaming), and ``finish(into:)`` at the end; ``reset()`` makes it ready for another body.
///
/// ```swift
/// let encoder = try HTTPContentEncoder(coding: .gzip)
/// var out: [UInt8] = []
/// try body.withUnsafeBytes { try encoder.encode($0, into: &out) }
/// try encoder.finish(into: &out)
/// ```
public final class HTTPContentEncoder {
    /// The coding this encoder produces.
    public let coding: HTTPContentCoding
    let stream: UnsafeMutablePointer<z_stream>
    let scratch: UnsafeMutableBufferPointer<Bytef>
    var finished = false

    /// Creates an encoder for `coding` (``HTTPContentCoding/gzip`` or ``HTTPContentCoding/deflate``).
    ///
    /// - Parameter level: zlib's compression level, 0 (store) to 9 (smallest), or -1 (zlib's default).
    /// - Throws: `.unsupportedCoding` for identity; `.zlibFailure` for a bad level or no memory.
    public init(coding: HTTPContentCoding, level: Int32 = 6) throws(HTTPContentCodingError) {
        let windowBits: Int32
        switch coding {
        case .gzip: windowBits = 15 + 16  // zlib writes a gzip header and trailer
        case .deflate: windowBits = 15
        case .identity: throw HTTPContentCodingError(.unsupportedCoding)
        }
        self.coding = coding
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let result = epsilon_deflateInit2(stream, level, windowBits, 8, Z_DEFAULT_STRATEGY)
        guard result == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw HTTPContentCodingError(.zlibFailure(result))
        }
        scratch = .allocate(capacity: 16 * 1024)
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Compresses `input`, appending whatever zlib emits to `output` (`Z_NO_FLUSH`: zlib may
    /// keep some of it buffered until ``flush(into:)`` or ``finish(into:)``).
    public func encode(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(HTTPContentCodingError) {
        guard !finished else { throw HTTPContentCodingError(.usedAfterFinish) }
        if input.isEmpty { return }
        try run(input, flush: Z_NO_FLUSH, into: &output)
    }

    /// Emits everything buffered so the peer can decode all that was sent so far (`Z_SYNC_FLUSH`).
    public func flush(into output: inout [UInt8]) throws(HTTPContentCodingError) {
        guard !finished else { throw HTTPContentCodingError(.usedAfterFinish) }
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_SYNC_FLUSH, into: &output)
    }

    /// Ends the stream (`Z_FINISH`), appending the rest and the trailer; afterwards the encoder
    /// can only be ``reset()``.
    public func finish(into output: inout [UInt8]) throws(HTTPContentCodingError) {
        guard !finished else { throw HTTPContentCodingError(.usedAfterFinish) }
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, into: &output)
        finished = true
    }

    /// Starts a new stream with the same coding and level, dropping anything not yet emitted.
    public func reset() {
        deflateReset(stream)
        finished = false
    }

    func run(_ input: UnsafeRawBufferPointer, flush: Int32, into output: inout [UInt8]) throws(HTTPContentCodingError) {
        stream.pointee.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
        stream.pointee.avail_in = uInt(input.count)
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        let capacity = scratch.count
        while true {
            stream.pointee.next_out = scratch.baseAddress
            stream.pointee.avail_out = uInt(capacity)
            let status = deflate(stream, flush)
            let produced = capacity - Int(stream.pointee.avail_out)
            if produced > 0 { output.append(contentsOf: UnsafeRawBufferPointer(start: scratch.baseAddress, count: produced)) }
            switch status {
            case Z_STREAM_END:
                return
            case Z_OK, Z_BUF_ERROR:
                // Done once zlib took all input and did not fill the output (for Z_FINISH: until Z_STREAM_END).
                if flush != Z_FINISH && stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
                if status == Z_BUF_ERROR && produced == 0 {
                    // No progress possible: normal for an empty flush, a failure while finishing.
                    if flush == Z_FINISH { throw HTTPContentCodingError(.zlibFailure(status)) }
                    return
                }
            default:
                throw HTTPContentCodingError(.zlibFailure(status))
            }
        }
    }
}
