import EpsilonTransport
import Foundation
import Glibc
import Testing

/// The peer for the 10,000-connection test: a Python process (its own descriptor table, so
/// both ends of 10,000 connections do not have to fit one process's limit). It connects
/// everything first, then sends one message per connection, checks each echo, reports, waits
/// for a newline on stdin, and closes all.
private let manyConnectionsClient = """
import resource, socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
print("connected", len(sockets), flush=True)
for index, s in enumerate(sockets):
    s.sendall(b"message %d\\n" % index)
good = 0
for index, s in enumerate(sockets):
    want = b"message %d\\n" % index
    got = b""
    while len(got) < len(want):
        chunk = s.recv(64)
        if not chunk:
            break
        got += chunk
    good += got == want
print("echoed", good, flush=True)
sys.stdin.readline()
for s in sockets:
    s.close()
print("closed", flush=True)
"""

/// Reads one line from a pipe, blocking.
private func readLine(_ handle: FileHandle) -> String {
    var bytes: [UInt8] = []
    while true {
        let data = handle.readData(ofLength: 1)
        if data.isEmpty || data.first == UInt8(ascii: "\n") { break }
        bytes.append(data.first!)
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Lists this process's descriptors as `fd -> target` (sockets show as `socket:[inode]`).
///
/// timerfds are left out: the transport never creates one (its timers are a heap that sets
/// the poller's wait timeout), while libdispatch, under Swift concurrency and Swift Testing,
/// creates one lazily per clock kind at moments this test does not control.
private func descriptorTable() -> [String: String] {
    var table: [String: String] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)")) ?? "?"
        if target == "anon_inode:[timerfd]" { continue }
        table[name] = target
    }
    return table
}

/// inode → local and remote ports of every TCP socket in this network namespace.
private func tcpSocketPorts() -> [String: [UInt16]] {
    var ports: [String: [UInt16]] = [:]
    for file in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        // Read to the end: /proc reports a size of 0, and a one-read helper gets one page only.
        guard let handle = FileHandle(forReadingAtPath: file) else { continue }
        var bytes = Data()
        while let chunk = try? handle.read(upToCount: 1 << 16), !chunk.isEmpty { bytes.append(chunk) }
        try? handle.close()
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: " ")
            guard columns.count > 9 else { continue }
            let port = { (column: Substring) in UInt16(column.split(separator: ":").last ?? "", radix: 16) ?? 0 }
            ports[String(columns[9])] = [port(columns[1]), port(columns[2])]
        }
    }
    return ports
}

extension Transport {
    /// Needs `python3` on PATH (the peer); fails, not skips, without it.
    @Suite struct TenThousandConnections {
        @Test(arguments: linuxBackends)
        func oneLoopHoldsTenThousandConnectionsAndLeaksNoDescriptor(backend: PollerBackend) async throws {
            let count = 10_000
            var limit = rlimit()
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            limit.rlim_cur = limit.rlim_max
            #expect(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
            #expect(limit.rlim_cur >= rlim_t(count + 100), "RLIMIT_NOFILE hard limit too low: \(limit.rlim_max)")

            // A small warm-up round first (Dispatch and Foundation open descriptors of their own
            // lazily on first use).
            _ = try await exchange(count: 10, backend: backend)
            let (elapsed, mine) = try await exchange(count: count, backend: backend)
            // Other suites of the process open and close descriptors meanwhile (sockets,
            // io_uring, epoll), so only this test's own are compared: the TCP sockets on the
            // server's port (the listener and every accepted connection), as `fd -> socket:[inode]`
            // while all were open; an inode names one socket, so a number another suite reused
            // since does not match. The loops' own descriptors (epoll, eventfd, io_uring) are
            // checked by `loopsCloseTheirDescriptors` below.
            #expect(mine.count == count + 1, "sockets on the server's port while open: \(mine.count)")
            let after = descriptorTable()
            let leaked = mine.filter { fd, target in after[fd] == target }
            #expect(leaked.isEmpty, "left open: \(leaked.prefix(10))")
            print("[\(backend)] \(count) connections open and echoed in \(elapsed); \(mine.count) sockets on the port, \(leaked.count) left open")
        }

        /// Forty groups started and shut down one after another leave no epoll or eventfd
        /// descriptor behind: a leak would add two per loop, far more than the few that
        /// Dispatch may open meanwhile for tests running in parallel.
        @Test(arguments: linuxBackends)
        func loopsCloseTheirDescriptors(backend: PollerBackend) async throws {
            func loopKinds() -> Int {
                descriptorTable().values.filter {
                    ["anon_inode:[eventpoll]", "anon_inode:[eventfd]", "anon_inode:[io_uring]"].contains($0)
                }.count
            }
            let warmUp = try IOLoopGroup(loopCount: 1, backend: backend)
            await warmUp.shutdown()
            let before = loopKinds()
            for _ in 0..<40 {
                let group = try IOLoopGroup(loopCount: 1, backend: backend)
                await group.shutdown()
            }
            let after = loopKinds()
            #expect(after - before < 20, "loop descriptors before \(before), after \(after)")
        }

        /// One loop, `count` connections from the Python peer, one message each, all closed; the
        /// time, and this process's sockets on the server's port while all were open.
        private func exchange(count: Int, backend: PollerBackend) async throws -> (Duration, [String: String]) {
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            let probe = Probe()
            let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0)) {
                EchoHandler(probe: probe)
            }
            let port = try #require(server.localAddress.port)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", manyConnectionsClient, String(port), String(count)]
            let output = Pipe()
            let input = Pipe()
            process.standardOutput = output
            process.standardInput = input
            let start = ContinuousClock.now
            try process.run()
            #expect(readLine(output.fileHandleForReading) == "connected \(count)")
            #expect(readLine(output.fileHandleForReading) == "echoed \(count)")
            #expect(await eventually { probe.snapshot.active == count })
            #expect(await server.connectionCount() == count)
            #expect(probe.snapshot.maxActive == count)
            let elapsed = ContinuousClock.now - start
            let ports = tcpSocketPorts()
            let mine = descriptorTable().filter { _, target in
                guard target.hasPrefix("socket:[") else { return false }
                return ports[String(target.dropFirst(8).dropLast())]?.first == port
            }

            input.fileHandleForWriting.write(Data("\n".utf8))
            #expect(readLine(output.fileHandleForReading) == "closed")
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(await eventually(timeout: .seconds(30)) { probe.snapshot.closed == count })
            #expect(probe.snapshot.active == 0)
            #expect(probe.snapshot.errors.isEmpty)

            await server.shutdown(gracePeriod: .seconds(1))
            await group.shutdown()
            try output.fileHandleForReading.close()
            try input.fileHandleForWriting.close()
            try? output.fileHandleForWriting.close()
            try? input.fileHandleForReading.close()
            return (elapsed, mine)
        }
    }
}
