import EpsilonHTTPServer
import EpsilonMallocCounter
import Testing

/// Lookups allocate nothing (meaningful with `swift test -c release`).
@Suite struct HTTPRouteTableAllocations {
    @Test func lookupsAllocateNothing() throws {
        #expect(epsilon_malloc_counter_is_active() == 1, "the malloc interposer must be live for a 0 to mean anything")
        var table = HTTPRouteTable<String>()
        for index in 0..<100 {
            try table.add(method: "GET", pattern: HTTPRoutePattern("/api/v\(index)/users/:id/posts/:post"), value: "posts \(index)")
        }
        try table.add(method: "GET", pattern: HTTPRoutePattern("/static/**"), value: "static")
        try table.add(method: "POST", pattern: HTTPRoutePattern("/webhook"), value: "webhook")
        try table.add(method: "GET", pattern: HTTPRoutePattern("/a/:x/c"), value: "backtrack")
        try table.add(method: "GET", pattern: HTTPRoutePattern("/a/b/d"), value: "literal")
        let requests: [([UInt8], [UInt8])] = [
            ("GET", "/api/v57/users/42/posts/7"), ("HEAD", "/static/css/site.css"), ("GET", "/webhook"),
            ("GET", "/a/b/c"), ("GET", "/nowhere"), ("DELETE", "/api/v1/users/1/posts/2"),
        ].map { (Array($0.0.utf8), Array($0.1.utf8)) }
        var matched = 0
        func lookUpAll() {
            for (method, path) in requests {
                method.withUnsafeBytes { method in
                    path.withUnsafeBytes { path in
                        if case .matched(_, let parameters, _) = table.lookup(method: method, path: path), parameters.count >= 0 {
                            matched += 1
                        }
                    }
                }
            }
        }
        lookUpAll()  // warm-up
        epsilon_malloc_counter_start()
        for _ in 0..<1000 { lookUpAll() }
        let allocations = epsilon_malloc_counter_stop()
        #if DEBUG
        // Unoptimized, generic code boxes a few values per lookup; the figure that counts is
        // the release build's 0 (`swift test -c release --filter HTTPRouteTableAllocations`).
        #expect(allocations <= 10 * 6000, "allocations over 6,000 lookups: \(allocations)")
        #else
        #expect(allocations == 0, "allocations over 6,000 lookups: \(allocations)")
        #endif
        #expect(matched == 1001 * 3)
    }
}
