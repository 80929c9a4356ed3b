import EpsilonTransport
import Foundation
import Synchronization
import Testing

/// One step of a scripted server output.
private enum SharedWriteStep: Sendable {
    /// An ordinary (copied) write of `count` pattern bytes starting at `offset`.
    case copy(offset: Int, count: Int)
    /// Bytes appended in place to the queue's tail.
    case inPlace(offset: Int, count: Int)
    /// One of the script's shared buffers, by index.
    case shared(Int)
}

/// A completion that ran: the connection, the step, the result.
private struct SharedWriteCompletion: Sendable {
    let connection: Int
    let step: Int
    let error: TransportError?
}

/// Numbers the scripted connections (a closed connection's address may be reused by the next).
private let sharedWriteConnectionNumbers = Atomic<Int>(0)

/// Shared buffers handed to the first connection that takes them (so that the test, not a
/// server's handler factory, holds the only other reference).
private final class SharedBytesHandOff: Sendable {
    let buffers: Mutex<[ConnectionSharedBytes]>
    init(_ buffers: [ConnectionSharedBytes]) { self.buffers = Mutex(buffers) }
    func take() -> [ConnectionSharedBytes] { buffers.withLock { taken in defer { taken = [] }; return taken } }
}

/// The completions that ran, from the loop thread to the test.
private final class SharedWriteLog: Sendable {
    let entries = Mutex<[SharedWriteCompletion]>([])
}

/// Writes a script when the connection opens (every step with a completion that records its
/// index), then closes after the flush or at once.
private final class ScriptHandler: ConnectionHandler {
    let steps: [SharedWriteStep]
    var buffers: [ConnectionSharedBytes]
    /// Closes (dropping what is queued) this long after writing; nil: closes after the flush.
    let closeAfter: Duration?
    let completed: SharedWriteLog

    init(steps: [SharedWriteStep], buffers: [ConnectionSharedBytes], closeAfter: Duration?, completed: SharedWriteLog) {
        self.steps = steps
        self.buffers = buffers
        self.closeAfter = closeAfter
        self.completed = completed
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}

    func connectionDidBecomeActive(_ connection: Connection) {
        let id = sharedWriteConnectionNumbers.wrappingAdd(1, ordering: .relaxed).newValue
        for (index, step) in steps.enumerated() {
            let record: (TransportError?) -> Void = { [completed] error in
                completed.entries.withLock { $0.append(SharedWriteCompletion(connection: id, step: index, error: error)) }
            }
            switch step {
            case .copy(let offset, let count):
                connection.write(Array(sixteenMiB[offset..<(offset + count)]), completion: record)
            case .inPlace(let offset, let count):
                connection.write { (buffer: inout [UInt8]) in buffer.append(contentsOf: sixteenMiB[offset..<(offset + count)]) }
            case .shared(let which):
                connection.write(shared: buffers[which], completion: record)
            }
        }
        buffers = []  // the queue holds what it still needs
        if let closeAfter {
            // A timer, not a task: the connection is loop-bound (the send is in flight by then).
            _ = connection.loop.scheduleTimer(after: closeAfter) { connection.close() }
        } else {
            connection.closeAfterFlush()
        }
    }
}

extension Transport {
    /// `Connection.write(shared:)`: a reference-counted buffer queued on many connections keeps
    /// its place among the other writes, survives partial writes, is released on close, and
    /// its completions run in order — on every backend (io_uring keeps the reference while a
    /// send is in flight).
    @Suite struct SharedWrites {
        /// Shared buffers around the copy limit and far above a chunk (partial sends end inside them).
        static func makeBuffers() -> [ConnectionSharedBytes] {
            [ConnectionSharedBytes(Array(sixteenMiB[0..<100])),
             ConnectionSharedBytes(Array(sixteenMiB[1000..<1300])),
             sixteenMiB[5000..<(5000 + 300_000)].withUnsafeBytes { ConnectionSharedBytes(copying: $0) }]
        }

        /// A script mixing every kind of write, the same shared buffers several times.
        fileprivate static let script: [SharedWriteStep] = [
            .copy(offset: 7, count: 10), .shared(2), .inPlace(offset: 20, count: 500), .shared(1),
            .shared(0), .inPlace(offset: 9, count: 3), .shared(2), .copy(offset: 40_000, count: 70_000),
            .shared(1), .inPlace(offset: 11, count: 40_000), .shared(2), .shared(0), .copy(offset: 1, count: 1),
        ]

        static func expected(_ buffers: [ConnectionSharedBytes]) -> [UInt8] {
            var bytes: [UInt8] = []
            for step in script {
                switch step {
                case .copy(let offset, let count), .inPlace(let offset, let count):
                    bytes += sixteenMiB[offset..<(offset + count)]
                case .shared(let which):
                    buffers[which].withUnsafeBytes { bytes += $0 }
                }
            }
            return bytes
        }

        @Test(arguments: linuxBackends)
        func keepsOrderThroughPartialWritesOnManyConnections(backend: PollerBackend) async throws {
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            let buffers = Self.makeBuffers()
            let completed = SharedWriteLog()
            let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0)) {
                ScriptHandler(steps: Self.script, buffers: buffers, closeAfter: nil, completed: completed)
            }
            var options = SocketOptions()
            // A small receive buffer and late readers: the server's sends stop part-way.
            options.receiveBufferSize = 16 * 1024
            var clients: [AsyncConnection] = []
            for _ in 0..<3 {
                clients.append(try await AsyncConnection.connect(to: server.localAddress, on: group.next(), options: options))
            }
            try await Task.sleep(for: .milliseconds(100))
            let expected = Self.expected(buffers)
            for client in clients {
                var received: [UInt8] = []
                while received.count <= expected.count, let chunk = try await client.read() { received += chunk }
                #expect(received.count == expected.count)
                #expect(received == expected)
                await client.close()
            }
            // Every completion ran once per connection, without error, in the order the writes
            // were queued (in-place writes take none).
            let indices = Self.script.indices.filter { if case .inPlace = Self.script[$0] { false } else { true } }
            #expect(await eventually { completed.entries.withLock { $0.count } == 3 * indices.count })
            let results = completed.entries.withLock { $0 }
            #expect(results.allSatisfy { $0.error == nil })
            let byConnection = Dictionary(grouping: results, by: \.connection)
            #expect(byConnection.count == 3)
            #expect(byConnection.values.allSatisfy { $0.map(\.step) == indices })
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
        }

        @Test(arguments: linuxBackends)
        func closeWithPendingSharedSegmentsFailsTheirCompletionsAndReleasesTheBytes(backend: PollerBackend) async throws {
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            let completed = SharedWriteLog()
            weak var released: ConnectionSharedBytes?
            let server: TCPServer
            do {
                let big = sixteenMiB[0..<(8 << 20)].withUnsafeBytes { ConnectionSharedBytes(copying: $0) }
                released = big
                let handOff = SharedBytesHandOff([big])
                let steps: [SharedWriteStep] = [.shared(0), .copy(offset: 3, count: 1000), .shared(0), .shared(0)]
                server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0)) {
                    ScriptHandler(steps: steps, buffers: handOff.take(), closeAfter: .milliseconds(200), completed: completed)
                }
            }
            var options = SocketOptions()
            options.receiveBufferSize = 16 * 1024
            // A client that never reads: most of 24 MiB is still queued when the server closes
            // (the kernel takes a few MiB at most), a send in flight on io_uring.
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next(), options: options)
            #expect(await eventually { completed.entries.withLock { $0.count } == 4 })
            let results = completed.entries.withLock { $0 }
            #expect(results.map(\.step) == [0, 1, 2, 3])
            // At most the first segment can have been handed to the kernel whole.
            #expect(results.dropFirst().allSatisfy { $0.error == .closed })
            // The queues let go of the shared bytes (io_uring: once the cancelled send completed).
            #expect(await eventually { released == nil })
            await client.close()
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
        }

        @Test(arguments: linuxBackends)
        func writeAfterCloseFailsAtOnce(backend: PollerBackend) async throws {
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            let completed = SharedWriteLog()
            final class LateWriter: ConnectionHandler {
                let completed: SharedWriteLog
                init(completed: SharedWriteLog) { self.completed = completed }
                func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}
                func connectionDidBecomeActive(_ connection: Connection) {
                    let id = 0
                    connection.shutdownOutput()
                    connection.write(shared: ConnectionSharedBytes([1, 2, 3])) { [completed] error in completed.entries.withLock { $0.append(SharedWriteCompletion(connection: id, step: 0, error: error)) } }
                    connection.close()
                    connection.write(shared: ConnectionSharedBytes(Array(repeating: 7, count: 1000))) { [completed] error in completed.entries.withLock { $0.append(SharedWriteCompletion(connection: id, step: 1, error: error)) } }
                }
            }
            let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0)) { LateWriter(completed: completed) }
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            #expect(await eventually { completed.entries.withLock { $0.count } == 2 })
            let results = completed.entries.withLock { $0 }
            #expect(results.map(\.step) == [0, 1])
            #expect(results.map(\.error) == [.outputShutdown, .closed])
            #expect(try await client.read() == nil)
            await client.close()
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
        }
    }
}
