import EpsilonHTTPContentCoding
import EpsilonMallocCounter
import Testing

/// Negotiation allocates nothing (run with `-c release` for a meaningful count).
@Suite struct ContentCodingAllocations {
    @Test func negotiationAllocatesNothing() {
        #expect(epsilon_malloc_counter_is_active() == 1, "the malloc interposer must be live for a 0 to mean anything")
        let value = Array("br;q=1.0, gzip;q=0.8, deflate;q=0.5, identity;q=0.1, *;q=0".utf8)
        let supported: [HTTPContentCoding] = [.gzip, .deflate]
        var chosen = 0
        value.withUnsafeBytes { bytes in
            _ = HTTPAcceptEncoding.negotiate(bytes, supported: supported)
            epsilon_malloc_counter_start()
            for _ in 0..<1000 where HTTPAcceptEncoding.negotiate(bytes, supported: supported) == .gzip { chosen += 1 }
            for _ in 0..<1000 where HTTPAcceptEncoding.negotiate(bytes) == .gzip { chosen += 1 }  // the default list
            let allocations = epsilon_malloc_counter_stop()
            #if DEBUG
            // Unoptimized, the generic ASCII helpers box a few values per token; the figure that
            // counts is the release build's 0 (`swift test -c release --filter ContentCodingAllocations`).
            #expect(allocations <= 30 * 2000, "allocations over 2,000 negotiations: \(allocations)")
            #else
            #expect(allocations == 0, "allocations over 2,000 negotiations: \(allocations)")
            #endif
        }
        #expect(chosen == 2000)
    }

    @Test func steadyStateDecodingAllocatesOnlyForOutputGrowth() throws {
        #expect(epsilon_malloc_counter_is_active() == 1)
        let coded = try encode(sampleBody(count: 100_000), coding: .gzip, pieces: [100_000])
        let decoder = try HTTPContentDecoder(coding: .gzip, maxOutputBytes: 1 << 30)
        var output = [UInt8]()
        output.reserveCapacity(1 << 21)
        try coded.withUnsafeBytes { bytes in
            try decoder.decode(bytes, into: &output)
            epsilon_malloc_counter_start()
            for _ in 0..<10 { try decoder.decode(bytes, into: &output) }  // gzip members back to back
            let allocations = epsilon_malloc_counter_stop()
            #expect(allocations == 0, "allocations over 10 members: \(allocations)")
        }
        try decoder.finish()
        #expect(output.count == 1_100_000)
    }
}
