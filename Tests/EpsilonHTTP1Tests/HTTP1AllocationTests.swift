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

    /// Counts heads without keeping anything.
    struct HeadCounter: HTTP1EventHandler {
        var heads = 0
        mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, fields: [HTTP1Field]) throws(HTTP1ParseError) {
            if case .head = event { heads += fields.count > 0 ? 1 : 0 }
        }
    }

    @Test func receivingPipelinedRequestsAllocatesNothingPerRequest() throws {
        #expect(epsilon_malloc_counter_is_active() == 1)
        let batch = Array(String(repeating: "GET /a HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n", count: 8).utf8)
        var parser = HTTP1Parser(role: .request)
        var counter = HeadCounter()
        try batch.withUnsafeBytes { b in
            _ = try parser.receive(b, handler: &counter)
            epsilon_malloc_counter_start()
            for _ in 0..<1_000 { _ = try parser.receive(b, handler: &counter) }
            let allocations = epsilon_malloc_counter_stop()
            #expect(allocations == 0, "allocations over 8,000 requests: \(allocations)")
        }
        #expect(counter.heads == 8 * 1_001)
    }

    /// Answers every request at its end with a fixed response.
    struct Answerer: HTTP1ConnectionHandler {
        let fields: [(name: String, value: String)] = [("Server", "t"), ("Content-Type", "text/plain")]
        let body: [UInt8] = Array("hello".utf8)
        mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, connection: inout HTTP1Connection) throws(HTTP1ParseError) {
            guard case .end = event else { return }
            try? connection.sendResponseHead(status: 200, reason: "OK", fields: fields, body: .known(5))
            try? connection.sendBody(body)
            try? connection.sendEnd()
        }
    }

    @Test func aServerConnectionAnswersKeepAliveRequestsWithoutAllocating() throws {
        #expect(epsilon_malloc_counter_is_active() == 1)
        let batch = Array(String(repeating: "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n", count: 8).utf8)
        var connection = HTTP1Connection(role: .server)
        var answerer = Answerer()
        var out: [UInt8] = []
        func round(_ b: UnsafeRawBufferPointer) throws(HTTP1ParseError) {
            _ = try connection.receive(b, handler: &answerer)
            out.removeAll(keepingCapacity: true)
            connection.writeOutput(into: &out)
        }
        try batch.withUnsafeBytes { b in
            try round(b)
            try round(b)
            epsilon_malloc_counter_start()
            for _ in 0..<1_000 { try round(b) }
            let allocations = epsilon_malloc_counter_stop()
            #if DEBUG
            // Unoptimized, the generic send paths (some StringProtocol, some Collection) box a
            // few values per response; the figure that counts is the release build's 0
            // (`swift test -c release --filter HTTP1Allocations`).
            #expect(allocations <= 8 * 8_000, "allocations over 8,000 exchanges: \(allocations)")
            #else
            #expect(allocations == 0, "allocations over 8,000 exchanges: \(allocations)")
            #endif
        }
        #expect(out.count == 8 * String(decoding: out.prefix(out.count / 8), as: UTF8.self).utf8.count)
        #expect(!connection.isClosed)
    }
}
