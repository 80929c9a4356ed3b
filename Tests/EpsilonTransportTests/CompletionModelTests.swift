import EpsilonHTTPServerPreview
import EpsilonTransport
import Foundation
import Synchronization
import Testing

extension Transport {
    /// What the completion model adds on top of the shared suites: the preview HTTP/1.1 server on
    /// every Linux backend (io_uring's completion mode included), pausing with a receive in
    /// flight, writes whose completions are pending when the connection closes, and a client
    /// connect that fails (all on every backend, so the readiness ones are the reference).
    @Suite struct CompletionModel {
        private static func get(_ path: String, close: Bool = false) -> [UInt8] {
            Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\(close ? "Connection: close\r\n" : "")\r\n".utf8)
        }

        @Test(arguments: linuxBackends)
        func previewServerAnswersKeepAliveAndPipelinedRequests(backend: PollerBackend) async throws {
            let group = try IOLoopGroup(loopCount: 2, backend: backend)
            let server = try await HelloServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0), body: "hello\n")
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            for index in 0..<20 {
                try await client.write(Self.get("/\(index)"))
                #expect(try await readResponses(1, from: client) == [HTTPResponse(status: 200, body: "hello\n", keepAlive: true)])
            }
            var batch: [UInt8] = []
            for index in 0..<64 { batch += Self.get("/pipelined/\(index)") }
            batch += Self.get("/last", close: true)
            try await client.write(batch)
            let responses = try await readResponses(65, from: client)
            #expect(responses.count == 65)
            #expect(responses.dropLast().allSatisfy { $0 == HTTPResponse(status: 200, body: "hello\n", keepAlive: true) })
            #expect(responses.last == HTTPResponse(status: 200, body: "hello\n", keepAlive: false))
            #expect(try await client.read() == nil)
            await client.close()
            await server.shutdown(gracePeriod: .seconds(1))
            await group.shutdown()
        }

        /// Reading paused while the connection waits for data (with io_uring a receive is then
        /// in flight): what arrives meanwhile is held (by the kernel, or parked in a loop buffer)
        /// and delivered, in order, only once reading resumes.
        @Test(arguments: linuxBackends)
        func pausedReadingHoldsDataUntilResumed(backend: PollerBackend) async throws {
            /// Set on the loop once reading is paused; the test resumes through it.
            final class Shared: Sendable { let paused = Mutex<LoopBound<Connection>?>(nil) }
            final class Pauser: ConnectionHandler {
                let received: LockedBytes
                let shared: Shared
                init(received: LockedBytes, shared: Shared) {
                    self.received = received
                    self.shared = shared
                }
                func connectionDidBecomeActive(_ connection: Connection) {
                    // Later than activation, so that with io_uring a receive is in flight.
                    connection.loop.scheduleTimer(after: .milliseconds(10)) { [shared] in
                        connection.pauseReading()
                        shared.paused.withLock { $0 = LoopBound(connection, loop: connection.loop) }
                    }
                }
                func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
                    received.append(bytes)
                }
            }
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            let received = LockedBytes()
            let shared = Shared()
            let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0)) {
                Pauser(received: received, shared: shared)
            }
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            let message = (0..<4000).map(patternByte)
            #expect(await eventually { shared.paused.withLock { $0 } != nil })
            try await client.write(Array(message[0..<1000]))
            try await Task.sleep(for: .milliseconds(30))
            try await client.write(Array(message[1000...]))
            try await Task.sleep(for: .milliseconds(30))
            #expect(received.count == 0, "bytes were delivered while reading was paused")
            if let connection = shared.paused.withLock({ $0 }) {
                connection.loop.execute { connection.value.resumeReading() }
            }
            #expect(await eventually { received.count == 4000 })
            #expect(received.bytes == message)
            await client.close()
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
        }

        /// Writes still queued (a send in flight that the kernel cannot finish: the peer does not
        /// read) when the connection is reset: every write completion runs exactly once, the
        /// unsent ones with an error.
        @Test(arguments: linuxBackends)
        func writesPendingAtCloseFailOnceEach(backend: PollerBackend) async throws {
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            final class Stubborn: ConnectionHandler {
                func connectionDidBecomeActive(_ connection: Connection) { connection.pauseReading() }
                func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}
            }
            let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0)) { Stubborn() }
            let outcomes = Probe()
            let loop = group.next()
            final class Silent: ConnectionHandler {
                func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}
            }
            let connection = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<LoopBound<Connection>, any Error>) in
                loop.execute {
                    loop.connect(to: server.localAddress, handler: Silent()) { result in
                        switch result {
                        case .success(let connection): continuation.resume(returning: LoopBound(connection, loop: loop))
                        case .failure(let error): continuation.resume(throwing: error)
                        }
                    }
                }
            }
            let chunk = [UInt8](repeating: 7, count: 1 << 20)
            try await loop.submit {
                let connection = connection.value
                for _ in 0..<32 {
                    connection.write(chunk) { error in
                        outcomes.update { fields in
                            if let error { fields.errors.append(error) } else { fields.bytesRead += 1 }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(50))
            try await loop.submit { connection.value.reset() }
            #expect(await eventually { outcomes.snapshot.bytesRead + outcomes.snapshot.errors.count == 32 })
            try await Task.sleep(for: .milliseconds(50))
            let snapshot = outcomes.snapshot
            #expect(snapshot.bytesRead + snapshot.errors.count == 32)
            #expect(snapshot.errors.count > 0, "the peer read everything: the test did not hold writes back")
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
        }

        @Test(arguments: linuxBackends)
        func connectToAClosedPortFailsWithConnectionRefused(backend: PollerBackend) async throws {
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            // Bind, note the port, close: nothing listens there now.
            let probe = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0)) { EchoHandler(probe: Probe()) }
            let address = probe.localAddress
            await probe.shutdown(gracePeriod: .zero)
            await #expect(throws: TransportError.system(call: "connect", errno: ECONNREFUSED)) {
                _ = try await AsyncConnection.connect(to: address, on: group.next())
            }
            await group.shutdown()
        }
    }
}

/// Bytes appended by a loop-side handler and read by a test.
final class LockedBytes: Sendable {
    private let storage = Mutex<[UInt8]>([])
    func append(_ bytes: UnsafeRawBufferPointer) { storage.withLock { $0 += bytes } }
    var count: Int { storage.withLock { $0.count } }
    var bytes: [UInt8] { storage.withLock { $0 } }
}
