#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// N event loops, each on its own thread, handed out round-robin.
///
/// ```swift
/// let group = try IOLoopGroup(loopCount: 2)
/// let server = try await TCPServer.start(on: group, address: .ipv4("127.0.0.1", port: 8080)) { Echo() }
/// await server.shutdown(gracePeriod: .seconds(5))
/// await group.shutdown()
/// ```
public final class IOLoopGroup: Sendable {
    /// The loops, in creation order.
    public let loops: [IOLoop]
    private let cursor = Atomic<Int>(0)

    /// Online CPU cores (at least 1).
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Starts `loopCount` loops (default: one per core) using `backend`.
    public init(loopCount: Int = IOLoopGroup.coreCount, backend: PollerBackend = .best) throws(TransportError) {
        var loops: [IOLoop] = []
        for index in 0..<max(1, loopCount) {
            do {
                loops.append(try IOLoop(backend: backend, name: "loop-\(index)"))
            } catch {
                for loop in loops { loop.syncShutdown() }
                throw error
            }
        }
        self.loops = loops
    }

    /// The next loop, round-robin. Thread-safe.
    public func next() -> IOLoop {
        let index = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[index % loops.count]
    }

    /// Stops every loop and waits for their threads to exit.
    public func shutdown() async {
        for loop in loops { loop.stop() }
        for loop in loops { await loop.shutdown() }
    }
}
