import EpsilonTransport
import Foundation
import Glibc
import Synchronization
import Testing

extension Transport {
    @Suite struct BackendDetection {
        @Test func detectionPicksAnAvailableBackendAndSaysWhy() {
            let (backend, reason) = PollerBackend.detect()
            #expect(backend.isAvailable)
            #expect(reason.contains(backend.rawValue))
            #expect(PollerBackend.availableHere.contains(.poll))
            #expect(PollerBackend.availableHere.contains(.epollLevelTriggered))
            #expect(PollerBackend.kqueue.availabilityProblem != nil)
        }

        /// io_uring runs here (kernel 6.18): both modes are in the shared suites. Where a kernel
        /// or seccomp policy refuses io_uring, this test is skipped with the kernel's reason, the
        /// shared suites print it and leave io_uring out, and detection names it.
        @Test(.enabled(if: PollerBackend.ioUring.isAvailable,
                       Comment(rawValue: "io_uring refused here: \(PollerBackend.ioUring.availabilityProblem ?? "")")))
        func ioUringRunsInBothModesHere() {
            #expect(PollerBackend.ioUringPoll.availabilityProblem == nil)
            #expect(linuxBackends.contains(.ioUring) && linuxBackends.contains(.ioUringPoll))
            #expect(PollerBackend.detect(override: "io_uring") == (.ioUring, "EPSILON_POLLER=io_uring"))
            #expect(PollerBackend.detect(override: "io_uring-poll") == (.ioUringPoll, "EPSILON_POLLER=io_uring-poll"))
        }

        @Test func refusedBackendsAreNamedWithTheirReason() {
            if let problem = PollerBackend.ioUring.availabilityProblem {
                let chosen = PollerBackend.detect(override: "io_uring")
                #expect(chosen.backend != .ioUring)
                #expect(chosen.reason.hasPrefix("EPSILON_POLLER=io_uring unavailable (\(problem))"))
                #expect(!linuxBackends.contains(.ioUring))
            }
            #expect(PollerBackend.iocp.availabilityProblem == "IOCP exists only on Windows")
            let iocp = PollerBackend.detect(override: "iocp")
            #expect(iocp.reason.hasPrefix("EPSILON_POLLER=iocp unavailable (IOCP exists only on Windows)"))
        }

        @Test func anOverrideWinsWhenAvailableAndFallsBackWithAReasonWhenNot() {
            #expect(PollerBackend.detect(override: "poll") == (.poll, "EPSILON_POLLER=poll"))
            let kqueue = PollerBackend.detect(override: "kqueue")
            #expect(kqueue.backend == .epollLevelTriggered)
            #expect(kqueue.reason.hasPrefix("EPSILON_POLLER=kqueue unavailable (kqueue exists only on Darwin"))
            let bogus = PollerBackend.detect(override: "select")
            #expect(bogus.backend == .epollLevelTriggered)
            #expect(bogus.reason.contains("names no backend"))
        }
    }

    @Suite struct Timers {
        @Test(arguments: linuxBackends)
        func timersFireInDeadlineOrderAndCancelledOnesNever(backend: PollerBackend) async throws {
            let loop = try IOLoop(backend: backend)
            let fired = Mutex<[Int]>([])
            let delays = [50, 10, 40, 20, 30, 0, 25, 5]
            try await loop.submit {
                var timers: [Int: LoopTimer] = [:]
                for delay in delays {
                    timers[delay] = loop.scheduleTimer(after: .milliseconds(delay)) { fired.withLock { $0.append(delay) } }
                }
                #expect(loop.cancelTimer(timers[25]!))
                #expect(loop.cancelTimer(timers[40]!))
            }
            try await Task.sleep(for: .milliseconds(150))
            #expect(fired.withLock { $0 } == [0, 5, 10, 20, 30, 50])
            await loop.shutdown()
        }

        @Test(arguments: linuxBackends)
        func idleConnectionsAreClosedAfterTheirTimeout(backend: PollerBackend) async throws {
            var options = ListenerOptions()
            options.connection.idleTimeout = .milliseconds(200)
            try await withEchoServer(backend: backend, family: .ipv4, options: options) { group, server, probe in
                let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
                let start = ContinuousClock.now
                try await client.write([1])
                #expect(try await client.read() == [1])
                #expect(try await client.read() == nil)
                let elapsed = ContinuousClock.now - start
                #expect(elapsed >= .milliseconds(190))
                #expect(elapsed < .seconds(3))
                #expect(await eventually { probe.snapshot.errors == [.idleTimeout] })
                await client.close()
            }
        }

        @Test(arguments: linuxBackends)
        func connectTimesOutWhenTheServerNeverAnswers(backend: PollerBackend) async throws {
            // A listener with backlog 0 that never accepts: once its queue is full the kernel
            // drops further SYNs, so the next connect hangs until our timeout.
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #expect(fd >= 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(bound == 0)
            #expect(listen(fd, 0) == 0)
            let port = try #require(SocketEndpoint.local(of: fd)?.port)
            let loop = try IOLoop(backend: backend)
            var timedOut = false
            var held: [AsyncConnection] = []
            for _ in 0..<8 {
                let start = ContinuousClock.now
                do {
                    held.append(try await AsyncConnection.connect(to: try .ipv4("127.0.0.1", port: port), on: loop,
                                                                  timeout: .milliseconds(300)))
                } catch {
                    #expect(error == .connectTimeout)
                    #expect(ContinuousClock.now - start >= .milliseconds(290))
                    timedOut = true
                    break
                }
            }
            #expect(timedOut)
            for connection in held { await connection.close() }
            await loop.shutdown()
        }
    }

    @Suite struct LoopGroupAndShutdown {
        @Test(arguments: linuxBackends)
        func acceptDistributionSpreadsConnectionsRoundRobin(backend: PollerBackend) async throws {
            let group = try IOLoopGroup(loopCount: 3, backend: backend)
            let probe = Probe()
            let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0),
                                                   distribution: .acceptOnFirstLoop) { EchoHandler(probe: probe) }
            var clients: [AsyncConnection] = []
            for _ in 0..<30 {
                clients.append(try await AsyncConnection.connect(to: server.localAddress, on: group.loops[0]))
            }
            #expect(await eventually { probe.snapshot.active == 30 })
            #expect(probe.snapshot.loops.values.sorted() == [10, 10, 10])
            // Graceful shutdown: idle echo connections drain at once, none needs force.
            let forced = await server.shutdown(gracePeriod: .seconds(5))
            #expect(forced == 0)
            for client in clients { #expect(try await client.read() == nil) }
            #expect(await server.connectionCount() == 0)
            await group.shutdown()
        }

        @Test func gracefulShutdownForcesConnectionsThatIgnoreTheDrainRequest() async throws {
            final class Stubborn: ConnectionHandler {
                func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}
                func connectionShouldDrain(_ connection: Connection) {}
            }
            let group = try IOLoopGroup(loopCount: 2)
            let server = try await TCPServer.start(on: group, address: try .ipv6("::1", port: 0)) { Stubborn() }
            var clients: [AsyncConnection] = []
            for _ in 0..<10 {
                clients.append(try await AsyncConnection.connect(to: server.localAddress, on: group.next()))
            }
            #expect(await eventually { await server.connectionCount() == 10 })
            let start = ContinuousClock.now
            let forced = await server.shutdown(gracePeriod: .milliseconds(200))
            #expect(forced == 10)
            #expect(ContinuousClock.now - start >= .milliseconds(190))
            // The listener is gone: new connects are refused.
            await #expect(throws: TransportError.self) {
                _ = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            }
            for client in clients { await client.close() }
            await group.shutdown()
        }

        @Test func asyncListenerYieldsConnectionsAsAnAsyncSequence() async throws {
            let group = try IOLoopGroup(loopCount: 2)
            let listener = try await AsyncListener.bind(on: group, address: try .ipv4("127.0.0.1", port: 0))
            let server = Task {
                var served = 0
                for await connection in listener {
                    served += 1
                    Task {
                        while let bytes = try await connection.read() { try await connection.write(bytes.reversed()) }
                        await connection.close()
                    }
                    if served == 5 { break }
                }
                return served
            }
            for index in 0..<5 {
                let client = try await AsyncConnection.connect(to: listener.localAddress, on: group.next())
                try await client.write(Array("abc\(index)".utf8))
                var reply: [UInt8] = []
                while reply.count < 4, let chunk = try await client.read() { reply += chunk }
                #expect(reply == Array("\(index)cba".utf8))
                await client.close()
            }
            #expect(await server.value == 5)
            await listener.close()
            await group.shutdown()
        }
    }
}
