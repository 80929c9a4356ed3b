import EpsilonHTTPContentCoding
import Testing

/// The encoder's streaming calls and usage rules.
@Suite struct ContentEncoderBehaviour {
    @Test(arguments: [HTTPContentCoding.gzip, .deflate])
    func flushMakesEverythingSentSoFarDecodable(coding: HTTPContentCoding) throws {
        let encoder = try HTTPContentEncoder(coding: coding)
        let decoder = try HTTPContentDecoder(coding: coding, maxOutputBytes: 1 << 20)
        var decoded = [UInt8]()
        var sent = [UInt8]()
        for round in 0..<5 {
            let piece = sampleBody(count: 100 + round * 777, seed: UInt64(round))
            sent += piece
            var coded = [UInt8]()
            try piece.withUnsafeBytes { try encoder.encode($0, into: &coded) }
            try encoder.flush(into: &coded)
            try coded.withUnsafeBytes { try decoder.decode($0, into: &decoded) }
            #expect(decoded == sent, "after flush \(round)")
        }
        var tail = [UInt8]()
        try encoder.finish(into: &tail)
        try tail.withUnsafeBytes { try decoder.decode($0, into: &decoded) }
        try decoder.finish()
        #expect(decoded == sent)
    }

    @Test func flushedStreamDecodesInPython() throws {
        let encoder = try HTTPContentEncoder(coding: .gzip)
        var coded = [UInt8]()
        let body = sampleBody(count: 3000)
        try body.withUnsafeBytes { try encoder.encode($0, into: &coded) }
        try encoder.flush(into: &coded)
        // Not finished: Python's streaming decoder must still give every byte back.
        let decoded = try PythonZlib.run("zlib.decompressobj(31).decompress(d)", on: coded)
        #expect(decoded == body)
    }

    @Test func usingAFinishedEncoderThrowsUntilReset() throws {
        let encoder = try HTTPContentEncoder(coding: .deflate)
        var coded = [UInt8]()
        try encoder.finish(into: &coded)
        let body = sampleBody(count: 10)
        #expect(throws: HTTPContentCodingError(.usedAfterFinish)) {
            try body.withUnsafeBytes { try encoder.encode($0, into: &coded) }
        }
        #expect(throws: HTTPContentCodingError(.usedAfterFinish)) { try encoder.flush(into: &coded) }
        #expect(throws: HTTPContentCodingError(.usedAfterFinish)) { try encoder.finish(into: &coded) }
        #expect(try PythonZlib.run("zlib.decompress(d)", on: coded) == [])

        encoder.reset()
        var second = [UInt8]()
        try body.withUnsafeBytes { try encoder.encode($0, into: &second) }
        try encoder.finish(into: &second)
        #expect(try PythonZlib.run("zlib.decompress(d)", on: second) == body)
    }

    @Test func identityIsNotAnEncoding() {
        #expect(throws: HTTPContentCodingError(.unsupportedCoding)) { _ = try HTTPContentEncoder(coding: .identity) }
    }

    @Test func anInvalidLevelIsAZlibFailure() {
        #expect(throws: HTTPContentCodingError.self) { _ = try HTTPContentEncoder(coding: .gzip, level: 42) }
    }
}
