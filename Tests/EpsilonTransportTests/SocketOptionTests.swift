import EpsilonTransport
import Foundation
import Glibc
import Synchronization
import Testing

/// Records the options the kernel reports for each accepted socket.
private final class OptionReader: ConnectionHandler {
    let seen: OptionsSeen
    init(seen: OptionsSeen) { self.seen = seen }

    func connectionDidBecomeActive(_ connection: Connection) {
        func option(_ level: Int32, _ name: Int32) -> Int32 {
            var value: Int32 = -1
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(connection.descriptor, level, name, &value, &length)
            return value
        }
        let values = [
            option(Int32(IPPROTO_TCP), TCP_NODELAY),
            option(SOL_SOCKET, SO_KEEPALIVE),
            option(Int32(IPPROTO_TCP), TCP_KEEPIDLE),
            fcntl(connection.descriptor, F_GETFL) & O_NONBLOCK,
            fcntl(connection.descriptor, F_GETFD) & FD_CLOEXEC,
        ]
        seen.values.withLock { $0.append(values) }
        connection.close()
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}
}

private final class OptionsSeen: Sendable {
    let values = Mutex<[[Int32]]>([])
}

extension Transport {
    @Suite struct SocketOptionsSuite {
        @Test(arguments: linuxBackends)
        func acceptedSocketsCarryNoDelayKeepAliveNonBlockingAndCloseOnExec(backend: PollerBackend) async throws {
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            var options = ListenerOptions()
            options.connection.noDelay = true
            options.connection.keepAlive = .seconds(42)
            let seen = OptionsSeen()
            let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0), options: options) {
                OptionReader(seen: seen)
            }
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            #expect(await eventually { seen.values.withLock { $0.count } == 1 })
            let values = seen.values.withLock { $0.first } ?? []
            #expect(values.count == 5)
            if values.count == 5 {
                #expect(values[0] != 0, "TCP_NODELAY")
                #expect(values[1] != 0, "SO_KEEPALIVE")
                #expect(values[2] == 42, "TCP_KEEPIDLE")
                #expect(values[3] != 0, "O_NONBLOCK (accept4)")
                #expect(values[4] != 0, "FD_CLOEXEC (accept4)")
            }
            #expect(try await client.read() == nil)
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
        }

        @Test func reusePortLetsTwoListenersShareOnePort() async throws {
            let group = try IOLoopGroup(loopCount: 4, backend: .epollLevelTriggered)
            let probe = Probe()
            let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0),
                                                   distribution: .reusePort) { EchoHandler(probe: probe) }
            var clients: [AsyncConnection] = []
            for _ in 0..<64 {
                clients.append(try await AsyncConnection.connect(to: server.localAddress, on: group.loops[0]))
            }
            #expect(await eventually { probe.snapshot.active == 64 })
            #expect(probe.snapshot.loops.count >= 2, "kernel spread over loops: \(probe.snapshot.loops)")
            await server.shutdown(gracePeriod: .seconds(1))
            for client in clients { await client.close() }
            await group.shutdown()
        }
    }
}
