import Synchronization

/// An in-memory ``HTTPServerIO``: what a session writes is collected in ``output``, time is a
/// value the test sets, tasks sent to the executor wait in a queue until ``runTasks()``.
/// For unit tests and the fuzzer: a whole server conversation without a socket or a thread.
final class HTTPServerMemoryIO: HTTPServerIO {
    /// Everything written so far (tests take it with ``takeOutput()``).
    private(set) var output: [UInt8] = []
    private(set) var isClosed = false
    private(set) var wasAborted = false
    private(set) var isReadingPaused = false
    private(set) var timerDeadline: UInt64?
    /// What the session pretends is queued and unsent (to test back-pressure).
    var simulatedPendingBytes = 0
    var now: UInt64 = 1_000_000_000
    var negotiatedApplicationProtocol: String?
    var isSecure = false
    let writeHighWatermark: Int
    private(set) var session: (any HTTPServerSession)?
    private let tasks = HTTPServerTaskQueue()
    /// Bound on queued tasks, so a runaway producer cannot grow the queue forever.
    private let maxTasks = 1 << 16

    init(writeHighWatermark: Int = 64 * 1024) {
        self.writeHighWatermark = writeHighWatermark
    }

    /// Starts `session` on this I/O.
    func open(_ session: any HTTPServerSession) {
        self.session = session
        session.start()
    }

    /// Feeds bytes as if read from the socket (nothing once closed or paused is simulated by the caller).
    func receive(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        bytes.withUnsafeBytes { session?.receive($0) }
    }

    /// The peer finished sending.
    func receiveEndOfStream() {
        guard !isClosed else { return }
        session?.receiveEndOfStream()
    }

    /// Advances the clock and fires the timer when due.
    func advance(to time: UInt64) {
        now = time
        if let deadline = timerDeadline, deadline <= time, !isClosed {
            timerDeadline = nil
            session?.handleTimer(now: time)
        }
    }

    /// Runs queued executor tasks (async handlers coming back) until none is left; returns how many ran.
    @discardableResult
    func runTasks() -> Int {
        var count = 0
        while true {
            let batch = tasks.queue.withLock { queue -> [@Sendable () -> Void] in
                let batch = queue
                queue.removeAll()
                return batch
            }
            if batch.isEmpty { return count }
            for task in batch { task() }
            count += batch.count
        }
    }

    /// Returns and forgets the output so far.
    func takeOutput() -> [UInt8] {
        defer { output.removeAll() }
        return output
    }

    /// Forgets the output so far, keeping its storage (for allocation counts).
    func discardOutput() { output.removeAll(keepingCapacity: true) }

    /// Closes (if still open) and lets go of the session: a session holds its I/O strongly,
    /// as the transport's handler lets go of its session on close, so this breaks the cycle.
    func tearDown() {
        close()
        session = nil
    }

    /// Simulates a graceful shutdown request.
    func drain() { session?.drain() }

    // MARK: HTTPServerIO

    func write(_ body: (inout [UInt8]) -> Void) {
        guard !isClosed else { return }
        body(&output)
    }

    var pendingWriteBytes: Int { simulatedPendingBytes }

    var isWritable: Bool { simulatedPendingBytes <= writeHighWatermark }

    /// Simulates the peer reading: the queue drains and the session hears it is writable.
    func drainWrites() {
        let wasWritable = isWritable
        simulatedPendingBytes = 0
        if !wasWritable && !isClosed { session?.writabilityChanged(isWritable: true) }
    }

    /// Output is already visible to the test as soon as it is written.
    func flushNow() {}

    func closeAfterFlush() { close() }

    func abort() {
        wasAborted = true
        close()
    }

    private func close() {
        guard !isClosed else { return }
        isClosed = true
        timerDeadline = nil
        let session = self.session
        session?.closed()
    }

    func pauseReading() { isReadingPaused = true }

    func resumeReading() { isReadingPaused = false }

    func setTimer(at deadline: UInt64?) { timerDeadline = isClosed ? nil : deadline }

    var executor: HTTPServerLoopExecutor {
        let tasks = self.tasks
        let maxTasks = self.maxTasks
        return HTTPServerLoopExecutor { task in
            tasks.queue.withLock { queue in
                guard queue.count < maxTasks else { return false }
                queue.append(task)
                return true
            }
        }
    }

    func switchSession(to session: any HTTPServerSession, replaying bytes: UnsafeRawBufferPointer) {
        let carried = Array(bytes)
        self.session = session
        session.start()
        if !carried.isEmpty, !isClosed { carried.withUnsafeBytes { session.receive($0) } }
    }
}

/// A thread-safe queue of loop tasks (the in-memory executor's inbox).
final class HTTPServerTaskQueue: Sendable {
    let queue = Mutex<[@Sendable () -> Void]>([])
}
