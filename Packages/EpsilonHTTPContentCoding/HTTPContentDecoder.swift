import CZlib

/// Undoes a content coding piece by piece, with a bound on the decoded size.
///
/// A class because zlib's stream keeps pointers into itself: it needs a stable address.
/// Not `Sendable`: one decoder belongs to one message body.
///
/// - ``HTTPContentCoding/gzip`` accepts one or more concatenated members (RFC 1952 §2.2).
/// - ``HTTPContentCoding/deflate`` accepts the zlib format (RFC 9110 §8.4.1.2) and also raw
///   deflate, which some servers send: the first two bytes decide (a valid zlib header,
///   RFC 1950 §2.2, means zlib).
/// - ``HTTPContentCoding/identity`` copies, under the same limit.
///
/// Decoded bytes never pass `maxOutputBytes`: the piece that would cross it throws
/// `.outputLimitExceeded` instead, so a decompression bomb costs at most the limit plus 16 KiB
/// of scratch. Any error is final: the decoder throws it again on every later call.
///
/// An empty body decodes to nothing without error (a server may label an empty body gzip).
///
/// ```swift
/// let decoder = try HTTPContentDecoder(coding: .gzip, maxOutputBytes: 8 << 20)
/// var body: [UInt8] = []
/// for piece in pieces { try piece.withUnsafeBytes { try decoder.decode($0, into: &body) } }
/// try decoder.finish()
/// ```
public final class HTTPContentDecoder {
    /// The coding this decoder undoes.
    public let coding: HTTPContentCoding
    /// The most bytes this decoder will produce.
    public let maxOutputBytes: Int
    /// The number of decoded bytes produced so far.
    public private(set) var totalOutputBytes = 0

    enum Phase {
        /// deflate only: waiting for two bytes to tell zlib from raw deflate (`pending` holds the first).
        case sniffing(pending: UInt8?)
        /// zlib is inside a stream (gzip: `started` once it has been given a byte).
        case inflating(started: Bool)
        /// The stream (or gzip member) ended; gzip may begin another member.
        case ended
        /// ``finish()`` was called.
        case finished
        case failed(HTTPContentCodingError)
    }

    var phase: Phase
    let stream: UnsafeMutablePointer<z_stream>
    let scratch: UnsafeMutableBufferPointer<Bytef>
    var zlibReady = false

    /// Creates a decoder for `coding` producing at most `maxOutputBytes` bytes in total.
    ///
    /// - Throws: `.zlibFailure` when zlib cannot start (no memory).
    public init(coding: HTTPContentCoding, maxOutputBytes: Int) throws(HTTPContentCodingError) {
        self.coding = coding
        self.maxOutputBytes = max(0, maxOutputBytes)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        scratch = .allocate(capacity: 16 * 1024)
        switch coding {
        case .identity:
            phase = .inflating(started: false)
        case .deflate:
            phase = .sniffing(pending: nil)
        case .gzip:
            phase = .inflating(started: false)
            try startZlib(windowBits: 15 + 16)  // gzip only
        }
    }

    deinit {
        if zlibReady { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    func startZlib(windowBits: Int32) throws(HTTPContentCodingError) {
        let result = epsilon_inflateInit2(stream, windowBits)
        guard result == Z_OK else { throw fail(.zlibFailure(result)) }
        zlibReady = true
    }

    func fail(_ kind: HTTPContentCodingError.Kind) -> HTTPContentCodingError {
        let error = HTTPContentCodingError(kind)
        phase = .failed(error)
        return error
    }

    /// Decodes `input`, appending the decoded bytes to `output`.
    ///
    /// - Throws: `.outputLimitExceeded` before writing past the limit, `.corruptData`,
    ///   `.trailingData` for bytes after the end of the stream, `.zlibFailure`.
    public func decode(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(HTTPContentCodingError) {
        if input.isEmpty {
            if case .failed(let error) = phase { throw error }
            return
        }
        switch phase {
        case .failed(let error):
            throw error
        case .finished:
            throw fail(.trailingData)
        case .sniffing(let pending):
            try sniff(pending: pending, input, into: &output)
        case .inflating, .ended:
            if coding == .identity {
                try copy(input, into: &output)
            } else {
                try inflateInput(input, into: &output)
            }
        }
    }

    /// Declares the end of the input.
    ///
    /// - Throws: `.truncated` when a stream was begun but did not end; an earlier error again.
    public func finish() throws(HTTPContentCodingError) {
        switch phase {
        case .failed(let error): throw error
        case .sniffing(nil), .inflating(started: false), .ended, .finished: phase = .finished
        case .sniffing(.some), .inflating(started: true): throw fail(.truncated)
        }
    }

    func copy(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(HTTPContentCodingError) {
        guard input.count <= maxOutputBytes - totalOutputBytes else { throw fail(.outputLimitExceeded(maxOutputBytes)) }
        output.append(contentsOf: input)
        totalOutputBytes += input.count
    }

    // RFC 1950 §2.2: CM = 8, CINFO <= 7, and CMF*256 + FLG a multiple of 31.
    static func isZlibHeader(_ cmf: UInt8, _ flg: UInt8) -> Bool {
        cmf & 0x0F == 8 && cmf >> 4 <= 7 && (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0
    }

    func sniff(pending: UInt8?, _ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(HTTPContentCodingError) {
        var rest = input
        var first: UInt8
        if let pending {
            first = pending
        } else {
            first = input[0]
            rest = UnsafeRawBufferPointer(rebasing: input[1...])
            if rest.isEmpty {
                phase = .sniffing(pending: first)
                return
            }
        }
        let zlib = Self.isZlibHeader(first, rest[0])
        try startZlib(windowBits: zlib ? 15 : -15)
        phase = .inflating(started: true)
        try withUnsafeBytes(of: &first) { (byte) throws(HTTPContentCodingError) in try inflateInput(byte, into: &output) }
        try inflateInput(rest, into: &output)
    }

    func inflateInput(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(HTTPContentCodingError) {
        if input.isEmpty { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        while true {
            if case .ended = phase {
                guard stream.pointee.avail_in > 0 else { return }
                // Another gzip member may follow (RFC 1952 §2.2); anything else is trailing data.
                guard coding == .gzip, stream.pointee.next_in[0] == 0x1F else { throw fail(.trailingData) }
                if stream.pointee.avail_in > 1 && stream.pointee.next_in[1] != 0x8B { throw fail(.trailingData) }
                inflateReset(stream)
            }
            phase = .inflating(started: true)
            let remaining = maxOutputBytes - totalOutputBytes
            // One byte more than allowed tells "exactly at the limit" from "over it".
            let room = remaining < scratch.count ? remaining + 1 : scratch.count
            stream.pointee.next_out = scratch.baseAddress
            stream.pointee.avail_out = uInt(room)
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = room - Int(stream.pointee.avail_out)
            if produced > remaining { throw fail(.outputLimitExceeded(maxOutputBytes)) }
            if produced > 0 {
                output.append(contentsOf: UnsafeRawBufferPointer(start: scratch.baseAddress, count: produced))
                totalOutputBytes += produced
            }
            switch status {
            case Z_STREAM_END:
                phase = .ended
            case Z_OK:
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
            case Z_BUF_ERROR:
                return  // no progress possible: zlib needs more input
            case Z_DATA_ERROR, Z_NEED_DICT:
                throw fail(.corruptData)  // HTTP has no preset dictionaries
            default:
                throw fail(.zlibFailure(status))
            }
        }
    }
}
