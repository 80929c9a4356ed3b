@testable import EpsilonHTTPServer
import Foundation
import Testing

/// The static-file route over the HTTP/1.1 session in memory: statuses, fields, ranges,
/// validators, refusals, and that a large body is read only as fast as the socket drains.
@Suite struct StaticFilesSessionTests {
    /// A folder with a few files, `secret.txt` beside it, removed at deinit.
    final class Tree {
        let base: String
        let root: String

        init() throws {
            base = NSTemporaryDirectory() + "epsilon-static-\(UUID().uuidString)"
            root = base + "/root"
            let files = FileManager.default
            try files.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
            try Data("secret".utf8).write(to: URL(fileURLWithPath: base + "/secret.txt"))
            try Data("0123456789".utf8).write(to: URL(fileURLWithPath: root + "/ten.txt"))
            try Data("<p>index</p>".utf8).write(to: URL(fileURLWithPath: root + "/sub/index.html"))
            try Data("gz".utf8).write(to: URL(fileURLWithPath: root + "/ten.txt.gz"))
            try Data(repeating: 7, count: 1 << 20).write(to: URL(fileURLWithPath: root + "/mib.bin"))
            try files.createSymbolicLink(atPath: root + "/out", withDestinationPath: "../secret.txt")
        }

        deinit { try? FileManager.default.removeItem(atPath: base) }

        func server(_ configure: (inout HTTPStaticFileOptions) -> Void = { _ in }) throws -> MemoryServer {
            var options = HTTPStaticFileOptions()
            configure(&options)
            var router = HTTPRouter()
            try router.staticFiles("/files", HTTPStaticFiles(root: root, options: options))
            return MemoryServer(router: router)
        }
    }

    func field(_ name: String, in response: String) -> String? {
        for line in response.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ": ") {
            return String(line.dropFirst(name.count + 2))
        }
        return nil
    }

    @Test func servesAFileWithValidators() throws {
        let tree = try Tree()
        let server = try tree.server { $0.cacheControl = "max-age=60" }
        server.send("GET /files/ten.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = server.take()
        #expect(statuses(out) == [200])
        #expect(out.hasSuffix("\r\n\r\n0123456789"))
        #expect(field("Content-Type", in: out) == "text/plain; charset=utf-8")
        #expect(field("Content-Length", in: out) == "10")
        #expect(field("Accept-Ranges", in: out) == "bytes")
        #expect(field("Cache-Control", in: out) == "max-age=60")
        #expect(field("Vary", in: out) == "Accept-Encoding")
        let etag = try #require(field("ETag", in: out))
        var info = stat()
        #expect(stat(tree.root + "/ten.txt", &info) == 0)
        #expect(etag.hasPrefix("\"" + String(UInt64(info.st_ino), radix: 16) + "-a-"))
        let modified = try #require(field("Last-Modified", in: out))

        server.send("GET /files/ten.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: \(etag)\r\n\r\n")
        let notModified = server.take()
        #expect(statuses(notModified) == [304])
        #expect(field("ETag", in: notModified) == etag)
        #expect(field("Cache-Control", in: notModified) == "max-age=60")
        #expect(field("Content-Length", in: notModified) == nil)
        server.send("GET /files/ten.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: \(modified)\r\n\r\n")
        #expect(statuses(server.take()) == [304])
        server.send("GET /files/ten.txt HTTP/1.1\r\nHost: x\r\nIf-Match: \"nope\"\r\n\r\n")
        #expect(statuses(server.take()) == [412])
    }

    @Test func rangesAndIfRange() throws {
        let tree = try Tree()
        let server = try tree.server()
        server.send("GET /files/ten.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=2-4\r\n\r\n")
        let partial = server.take()
        #expect(statuses(partial) == [206])
        #expect(field("Content-Range", in: partial) == "bytes 2-4/10")
        #expect(partial.hasSuffix("\r\n\r\n234"))
        server.send("GET /files/ten.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=10-\r\n\r\n")
        let unsatisfiable = server.take()
        #expect(statuses(unsatisfiable) == [416])
        #expect(field("Content-Range", in: unsatisfiable) == "bytes */10")
        server.send("GET /files/ten.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0,2-2\r\n\r\n")
        #expect(server.take().hasSuffix("\r\n\r\n0123456789"))
        server.send("GET /files/ten.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0\r\nIf-Range: \"old\"\r\n\r\n")
        #expect(statuses(server.take()) == [200])
    }

    @Test func precompressedSiblingByAcceptEncoding() throws {
        let tree = try Tree()
        let server = try tree.server()
        server.send("GET /files/ten.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, gzip;q=0.8\r\n\r\n")
        let out = server.take()
        #expect(field("Content-Encoding", in: out) == "gzip")
        #expect(field("Content-Type", in: out) == "text/plain; charset=utf-8")
        #expect(field("ETag", in: out)?.hasSuffix("-gz\"") == true)
        #expect(out.hasSuffix("\r\n\r\ngz"))
    }

    @Test(arguments: [
        ("/files/../secret.txt", 400), ("/files/%2e%2e/secret.txt", 400), ("/files/out", 403), ("/files/.x", 403),
        ("/files/none", 404), ("/files/sub", 301), ("/files/sub/", 200), ("/files", 301), ("/files/", 404),
    ])
    func statusByClass(_ target: String, _ status: Int) throws {
        let tree = try Tree()
        let server = try tree.server()
        server.send("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = server.take()
        #expect(statuses(out) == [status])
        #expect(!out.contains("secret\r\n") && !out.hasSuffix("secret"))
    }

    @Test func listingWhenEnabledEscapesNames() throws {
        let tree = try Tree()
        try Data().write(to: URL(fileURLWithPath: tree.root + "/<i>&.txt"))
        let server = try tree.server { $0.listsDirectories = true }
        server.send("GET /files/ HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = server.take()
        #expect(statuses(out) == [200])
        #expect(out.contains("&lt;i&gt;&amp;.txt") && out.contains("href=\"./%3Ci%3E%26.txt\""))
        #expect(!out.contains("<i>&"))
    }

    @Test func largeBodyIsReadOnlyAsTheSocketDrains() async throws {
        let tree = try Tree()
        let server = try tree.server()
        // The socket is "full": nothing may be read from the file until it drains.
        server.io.simulatedPendingBytes = 100_000
        server.send("GET /files/mib.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        server.io.runTasks()
        let head = server.io.takeOutput()
        #expect(statuses(String(decoding: head, as: UTF8.self)) == [200])
        #expect(head.count < 1024)
        var total = 0
        var turns = 0
        while total < 1 << 20 && turns < 1000 {
            server.io.drainWrites()
            server.io.simulatedPendingBytes = 100_000
            server.io.runTasks()
            let piece = server.io.takeOutput().count
            // One pump per turn: at most chunksPerTurn chunks, however much the file holds.
            #expect(piece <= StaticFileTransfer.chunksPerTurn * 64 * 1024 * 2)
            total += piece
            turns += 1
        }
        #expect(total == 1 << 20)
        #expect(turns >= (1 << 20) / (StaticFileTransfer.chunksPerTurn * 64 * 1024 * 2))
    }
}
