import EpsilonHTTPContentCoding
import Testing

/// Decompression bombs, corrupt, truncated and trailing input: typed errors, bounded output.
@Suite struct ContentDecoderHostileInput {
    static let limit = 1 << 20

    @Test(arguments: [(HTTPContentCoding.gzip, "gzip.compress(d, 9)"), (.deflate, "zlib.compress(d, 9)"),
                      (.deflate, "(lambda c: c.compress(d) + c.flush())(zlib.compressobj(9, zlib.DEFLATED, -15))")])
    func bombStopsAtTheLimit(coding: HTTPContentCoding, expression: String) throws {
        // 10 MB of zeros compresses to about 10 KB.
        let bomb = try PythonZlib.run(expression, on: [UInt8](repeating: 0, count: 10 << 20))
        #expect(bomb.count < 20_000)
        let decoder = try HTTPContentDecoder(coding: coding, maxOutputBytes: Self.limit)
        var output = [UInt8]()
        var thrown: HTTPContentCodingError?
        do {
            try bomb.withUnsafeBytes { try decoder.decode($0, into: &output) }
        } catch let error as HTTPContentCodingError {
            thrown = error
        }
        #expect(thrown == HTTPContentCodingError(.outputLimitExceeded(Self.limit)))
        #expect(output.count <= Self.limit)
        #expect(decoder.totalOutputBytes == output.count)
        // Memory: what was kept is the output, no more than the limit.
        #expect(output.capacity <= 2 * Self.limit)
        // The error is final.
        #expect(throws: HTTPContentCodingError(.outputLimitExceeded(Self.limit))) { try decoder.finish() }
    }

    @Test func outputExactlyAtTheLimitIsAccepted() throws {
        let body = sampleBody(count: 40_000)
        for coding in [HTTPContentCoding.gzip, .deflate] {
            let coded = try encode(body, coding: coding, pieces: [body.count])
            #expect(try decode(coded, coding: coding, pieces: pieceSizes(total: coded.count, oneByte: false), limit: 40_000) == body)
            #expect(throws: HTTPContentCodingError(.outputLimitExceeded(39_999))) {
                _ = try decode(coded, coding: coding, pieces: [coded.count], limit: 39_999)
            }
        }
    }

    @Test(arguments: [HTTPContentCoding.gzip, .deflate])
    func everyTruncationIsReported(coding: HTTPContentCoding) throws {
        let body = sampleBody(count: 2000)
        let coded = try encode(body, coding: coding, pieces: [body.count])
        for cut in 1..<coded.count {
            #expect(throws: HTTPContentCodingError(.truncated), "cut at \(cut) of \(coded.count)") {
                _ = try decode(Array(coded[..<cut]), coding: coding, pieces: [cut])
            }
        }
    }

    @Test func anEmptyBodyDecodesToNothing() throws {
        for coding in [HTTPContentCoding.gzip, .deflate, .identity] {
            #expect(try decode([], coding: coding, pieces: []) == [])
        }
    }

    @Test(arguments: [(HTTPContentCoding.gzip, "gzip.compress(d)"), (.deflate, "zlib.compress(d)"),
                      (.deflate, "(lambda c: c.compress(d) + c.flush())(zlib.compressobj(6, zlib.DEFLATED, -15))")])
    func bytesAfterTheEndAreTrailingData(coding: HTTPContentCoding, expression: String) throws {
        let body = sampleBody(count: 500)
        let coded = try PythonZlib.run(expression, on: body)
        for extra in [[0x00], [0x41, 0x42], [0x78, 0x9C]] as [[UInt8]] {
            for oneByte in [false, true] {
                #expect(throws: HTTPContentCodingError(.trailingData), "\(expression) + \(extra)") {
                    let all = coded + extra
                    _ = try decode(all, coding: coding, pieces: pieceSizes(total: all.count, oneByte: oneByte))
                }
            }
        }
    }

    @Test func bytesAfterFinishAreTrailingData() throws {
        let coded = try encode(sampleBody(count: 10), coding: .gzip, pieces: [10])
        let decoder = try HTTPContentDecoder(coding: .gzip, maxOutputBytes: 100)
        var output = [UInt8]()
        try coded.withUnsafeBytes { try decoder.decode($0, into: &output) }
        try decoder.finish()
        #expect(throws: HTTPContentCodingError(.trailingData)) {
            try coded.withUnsafeBytes { try decoder.decode($0, into: &output) }
        }
    }

    @Test(arguments: [HTTPContentCoding.gzip, .deflate])
    func corruptDataIsReported(coding: HTTPContentCoding) throws {
        let body = sampleBody(count: 3000)
        let coded = try encode(body, coding: coding, pieces: [body.count])
        var corruptions: [[UInt8]] = []
        var badChecksum = coded
        badChecksum[coded.count - (coding == .gzip ? 6 : 2)] ^= 0x55  // CRC32 / Adler-32
        corruptions.append(badChecksum)
        if coding == .gzip {
            var badLength = coded
            badLength[coded.count - 1] ^= 0x01  // ISIZE
            corruptions.append(badLength)
            var badMagic = coded
            badMagic[1] = 0x8C
            corruptions.append(badMagic)
            var badMethod = coded
            badMethod[2] = 7
            corruptions.append(badMethod)
        } else {
            // A preset dictionary (FDICT) is not allowed in HTTP.
            corruptions.append([0x78, 0xBB] + coded[2...])
        }
        // The first block header says BFINAL with the reserved block type 3.
        let header = coding == .gzip ? 10 : 2
        corruptions.append(Array(coded[..<header]) + [0x07] + coded[(header + 1)...])
        for (index, bad) in corruptions.enumerated() {
            #expect(throws: HTTPContentCodingError(.corruptData), "corruption \(index)") {
                _ = try decode(bad, coding: coding, pieces: pieceSizes(total: bad.count, oneByte: false))
            }
        }
    }

    @Test func garbageGivesATypedErrorOrBoundedOutput() throws {
        var state: UInt64 = 42
        for round in 0..<300 {
            var garbage = [UInt8]()
            for _ in 0..<(round % 97 + 1) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                garbage.append(UInt8(truncatingIfNeeded: state >> 33))
            }
            for coding in [HTTPContentCoding.gzip, .deflate] {
                // Random bytes may happen to be a valid stream prefix; what matters is a typed
                // outcome and bounded output.
                do {
                    let output = try decode(garbage, coding: coding, pieces: [garbage.count], limit: 1 << 16)
                    #expect(output.count <= 1 << 16)
                } catch let error as HTTPContentCodingError {
                    // A data error, never a zlib-internal one.
                    #expect([.corruptData, .truncated, .trailingData].contains(error.kind), "\(error)")
                }
            }
        }
    }
}
