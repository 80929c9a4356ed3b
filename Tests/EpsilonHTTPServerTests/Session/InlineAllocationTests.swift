@testable import EpsilonHTTPServer
import EpsilonMallocCounter
import Testing

/// A fixed response on the inline tier allocates nothing per request, parsing and routing
/// included (meaningful with `swift test -c release`: debug code boxes generics).
@Suite struct InlineAllocationTests {
    @Test func fixedResponseAllocatesNothingPerRequest() throws {
        #expect(epsilon_malloc_counter_is_active() == 1, "the malloc interposer must be live for a 0 to mean anything")
        let server = MemoryServer(router: try testRouter())
        let request = Array("GET /hello HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n".utf8)
        for _ in 0..<100 {
            server.io.receive(request)
            server.io.discardOutput()
        }
        epsilon_malloc_counter_start()
        for _ in 0..<1000 {
            server.io.receive(request)
            server.io.discardOutput()
        }
        let allocations = epsilon_malloc_counter_stop()
        #expect(!server.io.isClosed)
        #if DEBUG
        #expect(allocations <= 20 * 1000, "allocations over 1,000 requests: \(allocations)")
        #else
        #expect(allocations == 0, "allocations over 1,000 requests: \(allocations)")
        #endif
    }
}
