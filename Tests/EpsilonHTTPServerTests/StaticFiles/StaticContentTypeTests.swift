@testable import EpsilonHTTPServer
import EpsilonMallocCounter
import Testing

/// The static route's Content-Type by the last component's extension: the same answers as by
/// file name, and no allocation per lookup (meaningful with `swift test -c release`).
@Suite struct StaticContentTypeTests {
    @Test(arguments: [
        ("/srv/site/index.html", "text/html; charset=utf-8"), ("/srv/a.b/style.CSS", "text/css; charset=utf-8"),
        ("/srv/a.json/readme", "application/octet-stream"), ("/srv/.hidden", "application/octet-stream"),
        ("/srv/archive.tar.gz", "application/gzip"), ("photo.jpeg", "image/jpeg"), ("/srv/x.", "application/octet-stream"),
        ("/srv/name.averyveryverylongextension", "application/octet-stream"),
    ])
    func typeByLastComponent(_ path: String, _ expected: String) {
        let types = HTTPStaticContentTypes()
        #expect(types.contentType(forPath: path) == expected)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        #expect(types.contentType(forFileName: name) == expected)
    }

    @Test func lookupAllocatesNothing() {
        #expect(epsilon_malloc_counter_is_active() == 1, "the malloc interposer must be live for a 0 to mean anything")
        var types = HTTPStaticContentTypes()
        types.add("wgsl", as: "text/wgsl; charset=utf-8")
        let paths = ["/var/www/site/assets/app.min.js", "/var/www/site/index.HTML", "/var/www/site/sub.dir/README",
                     "/var/www/site/shader.wgsl", "/var/www/site/fonts/inter-var.woff2"]
        var total = 0
        for path in paths { total += types.contentType(forPath: path).utf8.count }  // warm-up
        epsilon_malloc_counter_start()
        for _ in 0..<1000 {
            for path in paths { total += types.contentType(forPath: path).utf8.count }
        }
        let allocations = epsilon_malloc_counter_stop()
        #if DEBUG
        #expect(allocations <= 10 * 5000, "allocations over 5,000 lookups: \(allocations)")
        #else
        #expect(allocations == 0, "allocations over 5,000 lookups: \(allocations)")
        #endif
        #expect(total > 0)
    }
}
