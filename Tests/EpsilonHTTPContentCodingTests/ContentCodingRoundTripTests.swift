import EpsilonHTTPContentCoding
import Testing

/// Encodes `body` in pieces, flushing never, finishing once.
func encode(_ body: [UInt8], coding: HTTPContentCoding, pieces: [Int], level: Int32 = 6) throws -> [UInt8] {
    let encoder = try HTTPContentEncoder(coding: coding, level: level)
    var output = [UInt8]()
    var offset = 0
    try body.withUnsafeBytes { bytes in
        for size in pieces {
            try encoder.encode(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + size]), into: &output)
            offset += size
        }
    }
    try encoder.finish(into: &output)
    return output
}

/// Decodes `coded` in pieces and finishes.
func decode(_ coded: [UInt8], coding: HTTPContentCoding, pieces: [Int], limit: Int = 64 << 20) throws -> [UInt8] {
    let decoder = try HTTPContentDecoder(coding: coding, maxOutputBytes: limit)
    var output = [UInt8]()
    var offset = 0
    try coded.withUnsafeBytes { bytes in
        for size in pieces {
            try decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + size]), into: &output)
            offset += size
        }
    }
    try decoder.finish()
    #expect(decoder.totalOutputBytes == output.count)
    return output
}

/// Our encoder against Python's decoder and Python's encoder against our decoder, many sizes
/// and splits (one byte at a time included).
@Suite struct ContentCodingRoundTripWithPython {
    static let sizes = [0, 1, 2, 100, 16_383, 16_384, 16_385, 100_000, 1_000_000]

    static let pythonDecoders: [(HTTPContentCoding, String)] = [
        (.gzip, "gzip.decompress(d)"),
        (.deflate, "zlib.decompress(d)"),
    ]

    @Test(arguments: sizes)
    func ourEncodingDecodesInPython(size: Int) throws {
        let body = sampleBody(count: size)
        for (coding, expression) in Self.pythonDecoders {
            for oneByte in size <= 16_385 ? [false, true] : [false] {
                let coded = try encode(body, coding: coding, pieces: pieceSizes(total: size, oneByte: oneByte))
                let decoded = try PythonZlib.run(expression, on: coded)
                #expect(decoded == body, "\(coding) size \(size) oneByte \(oneByte)")
            }
        }
    }

    static let pythonEncoders: [(HTTPContentCoding, String, String)] = [
        (.gzip, "gzip.compress(d)", "gzip"),
        (.gzip, "gzip.compress(d, compresslevel=1) + gzip.compress(d[::-1], compresslevel=9)", "gzip, two members"),
        (.deflate, "zlib.compress(d)", "zlib-wrapped deflate"),
        (.deflate, "(lambda c: c.compress(d) + c.flush())(zlib.compressobj(6, zlib.DEFLATED, -15))", "raw deflate"),
        (.deflate, "(lambda c: c.compress(d) + c.flush())(zlib.compressobj(9, zlib.DEFLATED, 9))", "zlib, 512-byte window"),
    ]

    @Test(arguments: sizes)
    func pythonEncodingDecodesHere(size: Int) throws {
        let body = sampleBody(count: size, seed: UInt64(size) &+ 17)
        for (coding, expression, label) in Self.pythonEncoders {
            let coded = try PythonZlib.run(expression, on: body)
            let expected = label == "gzip, two members" ? body + body.reversed() : body
            for oneByte in coded.count <= 40_000 ? [false, true] : [false] {
                let decoded = try decode(coded, coding: coding, pieces: pieceSizes(total: coded.count, oneByte: oneByte))
                #expect(decoded == expected, "\(label) size \(size) oneByte \(oneByte)")
            }
        }
    }

    @Test func everyLevelRoundTrips() throws {
        let body = sampleBody(count: 50_000)
        for level: Int32 in [-1, 0, 1, 9] {
            for coding in [HTTPContentCoding.gzip, .deflate] {
                let coded = try encode(body, coding: coding, pieces: [body.count], level: level)
                #expect(try decode(coded, coding: coding, pieces: [coded.count]) == body)
            }
        }
    }

    @Test func identityDecoderCopiesUnderTheLimit() throws {
        let body = sampleBody(count: 5000)
        #expect(try decode(body, coding: .identity, pieces: pieceSizes(total: 5000, oneByte: false)) == body)
        #expect(throws: HTTPContentCodingError(.outputLimitExceeded(4999))) {
            _ = try decode(body, coding: .identity, pieces: [5000], limit: 4999)
        }
    }
}
