import Synchronization

/// A peer started once, the first time a test asks for it, and shared by every test after that
/// (a failure to start is kept too). Its process lives as long as the test process: a peer that
/// watches its standard input (`--exit-with-stdin`) exits with it.
public final class SharedTestPeer<Peer: Sendable>: Sendable {
    private let start: @Sendable () async throws -> Peer
    private let started = Mutex<Task<Peer, any Error>?>(nil)

    /// A peer `start` makes on first use.
    public init(_ start: @escaping @Sendable () async throws -> Peer) { self.start = start }

    /// The peer, started on first use (concurrent first callers wait for the same start-up).
    public func get() async throws -> Peer {
        let task = started.withLock { task in
            if let task { return task }
            let start = self.start
            let new = Task { try await start() }
            task = new
            return new
        }
        return try await task.value
    }
}
