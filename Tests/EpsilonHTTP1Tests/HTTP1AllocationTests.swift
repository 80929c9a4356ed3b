import EpsilonHTTP1
import EpsilonMallocCounter
import Testing

/// Steady-state parsing allocates nothing: the fields storage is reused across messages.
@Suite struct HTTP1Allocations {
    @Test func parsingKeepAliveRequestsAllocatesNothingPerRequest() throws {
        #expect(epsilon_malloc_counter_is_active() == 1, "the malloc interposer must be live for a 0 to mean anything")
        let request = Array(("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n"
            + "Accept: */*\r\nAccept-Language: en\r\nCookie: a=b; c=d\r\nContent-Length: 4\r\n\r\nbody").utf8)
        var parser = HTTP1Parser(role: .request)
        var heads = 0
        func parseOne(_ b: UnsafeRawBufferPointer) throws(HTTP1ParseError) {
            var offset = 0
            while offset < b.count {
                let step = try parser.parse(UnsafeRawBufferPointer(rebasing: b[offset...]))
                if case .head = step.event { heads += 1 }
                offset += step.consumed
            }
            _ = try parser.parse(UnsafeRawBufferPointer(rebasing: b[b.count...]))  // the end event
        }
        try request.withUnsafeBytes { b in
            try parseOne(b)  // warm-up: the fields storage grows once
            epsilon_malloc_counter_start()
            for _ in 0..<10_000 { try parseOne(b) }
            let allocations = epsilon_malloc_counter_stop()
            #expect(allocations == 0, "allocations over 10,000 requests: \(allocations)")
        }
        #expect(heads == 10_001)
    }

    @Test func serializingAResponseHeadAllocatesNothingOnceTheBufferHasGrown() throws {
        #expect(epsilon_malloc_counter_is_active() == 1)
        var out: [UInt8] = []
        out.reserveCapacity(256)
        func write() throws(HTTP1SerializeError) {
            out.removeAll(keepingCapacity: true)
            try HTTP1Serializer.writeStatusLine(status: 200, reason: "OK", into: &out)
            try HTTP1Serializer.writeField(name: "Content-Type", value: "text/plain", into: &out)
            try HTTP1Serializer.writeField(name: "Content-Length", value: 1234, into: &out)
            HTTP1Serializer.writeEndOfHead(into: &out)
        }
        try write()
        epsilon_malloc_counter_start()
        for _ in 0..<10_000 { try write() }
        let allocations = epsilon_malloc_counter_stop()
        #expect(allocations == 0, "allocations over 10,000 heads: \(allocations)")
    }
}
