import EpsilonTransport
import Foundation
import Testing

extension Transport {
    /// The one echo suite every Linux backend runs: TCP over IPv4, IPv6 and Unix sockets.
    @Suite struct StreamEcho {
        @Test(arguments: linuxBackends, Family.allCases)
        func echoesOneByteWrites(backend: PollerBackend, family: Family) async throws {
            try await withEchoServer(backend: backend, family: family) { group, server, _ in
                let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
                var received: [UInt8] = []
                for index in 0..<300 {
                    try await client.write([patternByte(index)])
                    if index % 50 == 0, let chunk = try await client.read() { received += chunk }
                }
                while received.count < 300, let chunk = try await client.read() { received += chunk }
                #expect(received == (0..<300).map(patternByte))
                await client.close()
            }
        }

        @Test(arguments: linuxBackends, Family.allCases)
        func transfers16MiBWithBackPressure(backend: PollerBackend, family: Family) async throws {
            let total = sixteenMiB.count
            try await withEchoServer(backend: backend, family: family) { group, server, probe in
                // A small client receive buffer makes the server's writes back up quickly.
                var options = SocketOptions()
                options.receiveBufferSize = 32 * 1024
                let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next(), options: options)
                let writer = Task {
                    var offset = 0
                    while offset < total {
                        let count = min(256 * 1024, total - offset)
                        try await client.write(Array(sixteenMiB[offset..<(offset + count)]))
                        offset += count
                    }
                }
                // Let the writer run ahead so the server's queue crosses its high watermark.
                try await Task.sleep(for: .milliseconds(200))
                var received = 0
                var mismatches = 0
                while received < total, let chunk = try await client.read() {
                    guard received + chunk.count <= total else {
                        mismatches += 1
                        break
                    }
                    let same = chunk.withUnsafeBytes { got in
                        sixteenMiB.withUnsafeBytes { want in
                            memcmp(got.baseAddress!, want.baseAddress! + received, chunk.count) == 0
                        }
                    }
                    if !same { mismatches += 1 }
                    received += chunk.count
                }
                try await writer.value
                #expect(received == total)
                #expect(mismatches == 0)
                let flips = probe.snapshot.writabilityFlips
                #expect(flips >= 2, "the server's write queue never crossed its watermarks")
                await client.close()
            }
        }

        @Test(arguments: linuxBackends, Family.allCases)
        func halfCloseStillDeliversTheReply(backend: PollerBackend, family: Family) async throws {
            try await withEchoServer(backend: backend, family: family) { group, server, probe in
                let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
                let message = (0..<100_000).map(patternByte)
                try await client.write(message)
                try await client.shutdownOutput()
                var received: [UInt8] = []
                while let chunk = try await client.read() { received += chunk }
                #expect(received == message)
                #expect(await eventually { probe.snapshot.sawEOF == 1 && probe.snapshot.closed == 1 })
                #expect(probe.snapshot.errors.isEmpty)
                await client.close()
            }
        }

        @Test(arguments: linuxBackends, [Family.ipv4, Family.ipv6])
        func peerResetIsReportedToTheServer(backend: PollerBackend, family: Family) async throws {
            try await withEchoServer(backend: backend, family: family) { group, server, probe in
                let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
                try await client.write(Array("hello".utf8))
                #expect(try await client.read() == Array("hello".utf8))
                await client.reset()
                #expect(await eventually { probe.snapshot.closed == 1 })
                #expect(probe.snapshot.errors == [.connectionReset])
            }
        }

        @Test(arguments: linuxBackends, [Family.ipv4, Family.ipv6])
        func serverResetFailsTheClientRead(backend: PollerBackend, family: Family) async throws {
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            final class Resetter: ConnectionHandler {
                func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
                    connection.reset()
                }
            }
            let server = try await TCPServer.start(on: group, address: try family.listenAddress()) { Resetter() }
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            try await client.write([1, 2, 3])
            await #expect(throws: TransportError.connectionReset) {
                while try await client.read() != nil {}
            }
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
        }

        @Test(arguments: linuxBackends)
        func manyClientsAtOnce(backend: PollerBackend) async throws {
            try await withEchoServer(backend: backend, family: .ipv4, loops: 2) { group, server, probe in
                try await withThrowingTaskGroup(of: Bool.self) { tasks in
                    for index in 0..<200 {
                        tasks.addTask {
                            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
                            let message = Array("message \(index)".utf8)
                            try await client.write(message)
                            var received: [UInt8] = []
                            while received.count < message.count, let chunk = try await client.read() { received += chunk }
                            await client.close()
                            return received == message
                        }
                    }
                    var good = 0
                    for try await ok in tasks where ok { good += 1 }
                    #expect(good == 200)
                }
                #expect(await eventually { probe.snapshot.closed == 200 })
                #expect(probe.snapshot.loops.count == 2, "SO_REUSEPORT spread: \(probe.snapshot.loops)")
            }
        }
    }
}
