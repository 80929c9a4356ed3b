import EpsilonWebSocket
import EpsilonWebSocketDeflate
import Testing

/// The zlib memLevel chosen from the window: the documented table, and small-window
/// compressors that still round-trip, with and without context takeover.
@Suite struct DeflateMemoryLevelTests {
    @Test func followsTheDocumentedTable() {
        let table = (8...15).map { WebSocketDeflateCompressor.memoryLevel(forWindowBits: $0) }
        #expect(table == [1, 1, 2, 3, 4, 5, 6, 8])
    }

    @Test(arguments: [(9, true), (9, false), (10, true), (12, false), (15, true)])
    func smallWindowCompressorsRoundTrip(_ windowBits: Int, _ noContextTakeover: Bool) throws {
        let parameters = WebSocketDeflateParameters(serverNoContextTakeover: noContextTakeover, serverMaxWindowBits: windowBits)
        let compressor = WebSocketDeflateCompressor(parameters: parameters, role: .server)
        let decompressor = WebSocketDeflateDecompressor(parameters: parameters, role: .client)
        for round in 0..<3 {
            let message = Array((0..<5000).map { UInt8(truncatingIfNeeded: ($0 * 7 + round) % 61) })
            let compressed = compressor.compress(message)
            #expect(compressed.count < message.count / 2)
            #expect(try inflate(compressed, with: decompressor) == message)
        }
    }

    @Test func anExplicitMemoryLevelIsHonoured() throws {
        let parameters = WebSocketDeflateParameters(serverMaxWindowBits: 9)
        let message = Array(repeating: Array("abcdefgh".utf8), count: 300).flatMap { $0 }
        let low = WebSocketDeflateCompressor(parameters: parameters, role: .server, memoryLevel: 1).compress(message)
        let high = WebSocketDeflateCompressor(parameters: parameters, role: .server, memoryLevel: 9).compress(message)
        let decompressor = WebSocketDeflateDecompressor(parameters: parameters, role: .client)
        #expect(try inflate(low, with: decompressor) == message)
        #expect(try inflate(high, with: decompressor) == message)
    }
}
