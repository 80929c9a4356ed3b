#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims
import Synchronization

/// One event loop: one thread, one poller, its timers and the sockets registered on it.
///
/// Everything registered on a loop (connections, listeners, datagram sockets, loop timers) is
/// touched only on the loop's thread. Other threads talk to it with ``execute(_:)`` and
/// ``schedule(after:_:)``, which are thread-safe. Create loops through ``IOLoopGroup`` or
/// ``init(backend:)``, and stop them with ``shutdown()``.
///
/// ```swift
/// let loop = try IOLoop(backend: .best)
/// loop.execute { print("on the loop thread") }
/// await loop.shutdown()
/// ```
public final class IOLoop: Sendable, CustomStringConvertible {
    /// The backend this loop polls with.
    public let backend: PollerBackend
    /// A short name for logs (`loop-0`, ...).
    public let name: String

    private struct Inbox {
        var tasks: [@Sendable () -> Void] = []
        var sleeping = false
        var stopRequested = false
        var exited = false
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let inbox = Mutex(Inbox())
    private let threadID = Atomic<UInt>(0)
    private let thread = Mutex<pthread_t?>(nil)
    private let wakeReadFD: Int32
    private let wakeWriteFD: Int32

    // Touched only on the loop thread (checked by `preconditionInLoop()` at every public entry
    // point that reaches it); `nonisolated(unsafe)` because the type cannot express that.
    nonisolated(unsafe) let core: LoopCore

    /// Creates and starts a loop with its own thread.
    public init(backend: PollerBackend = .best, name: String = "loop") throws(TransportError) {
        self.backend = backend
        self.name = name
        let poller = try backend.makePoller()
        #if os(Linux)
        let wake = epsilon_eventfd()
        guard wake >= 0 else {
            poller.close()
            throw .fromErrno("eventfd")
        }
        wakeReadFD = wake
        wakeWriteFD = wake
        #else
        var fds: [Int32] = [0, 0]
        guard epsilon_pipe2(&fds) == 0 else {
            poller.close()
            throw .fromErrno("pipe")
        }
        wakeReadFD = fds[0]
        wakeWriteFD = fds[1]
        #endif
        core = LoopCore(poller: poller)
        do {
            try poller.register(wakeReadFD, token: LoopCore.wakeToken, interest: .read)
        } catch {
            poller.close()
            closeDescriptor(wakeReadFD)
            if wakeWriteFD != wakeReadFD { closeDescriptor(wakeWriteFD) }
            throw error
        }
        startThread()
    }

    /// `name(backend)`.
    public var description: String { "\(name)(\(backend))" }

    /// True when the caller runs on this loop's thread.
    public var inEventLoop: Bool { threadID.load(ordering: .acquiring) == currentThreadID() }

    /// Traps unless called on the loop's thread.
    public func preconditionInLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(inEventLoop, "must be called on \(name)'s thread", file: file, line: line)
    }

    /// Runs `task` on the loop thread soon; returns false (and drops the task) once the loop
    /// has stopped. Thread-safe.
    @discardableResult
    public func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        let (accepted, wake) = inbox.withLock { state -> (Bool, Bool) in
            if state.exited { return (false, false) }
            state.tasks.append(task)
            let wake = state.sleeping
            state.sleeping = false
            return (true, wake)
        }
        if wake { signalWake() }
        return accepted
    }

    /// Runs `task` on the loop thread after `delay`. Thread-safe.
    public func schedule(after delay: Duration, _ task: @escaping @Sendable () -> Void) {
        execute { [self] in
            _ = self.scheduleTimer(after: delay, task)
        }
    }

    /// Schedules a loop timer; must be called on the loop thread. O(log n).
    @discardableResult
    public func scheduleTimer(after delay: Duration, _ action: @escaping () -> Void) -> LoopTimer {
        preconditionInLoop()
        let id = core.timers.schedule(at: monotonicNanoseconds() &+ nanoseconds(delay), action)
        return LoopTimer(id: id)
    }

    /// Cancels a loop timer; returns false when it already fired. Loop thread only. O(1).
    @discardableResult
    public func cancelTimer(_ timer: LoopTimer) -> Bool {
        preconditionInLoop()
        return core.timers.cancel(timer.id)
    }

    /// Asks the loop to stop: registered sockets are closed (handlers see ``TransportError/loopStopped``),
    /// pending tasks run once, then the thread exits. Thread-safe; returns at once.
    public func stop() {
        let wake = inbox.withLock { state -> Bool in
            if state.stopRequested { return false }
            state.stopRequested = true
            return true
        }
        if wake { signalWake() }
    }

    /// Stops the loop and waits until its thread has exited.
    public func shutdown() async {
        stop()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = inbox.withLock { state -> Bool in
                if state.exited { return true }
                state.exitWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        joinThread()
    }

    /// Stops the loop and blocks the calling thread until it exits; not for the loop's own thread.
    public func syncShutdown() {
        precondition(!inEventLoop, "syncShutdown() on the loop's own thread would deadlock")
        stop()
        joinThread()
    }

    private func joinThread() {
        let handle = thread.withLock { handle -> pthread_t? in
            defer { handle = nil }
            return handle
        }
        if let handle { pthread_join(handle, nil) }
    }

    private func signalWake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { raw in
            #if canImport(Glibc)
            Glibc.write(wakeWriteFD, raw.baseAddress, 8)
            #else
            Darwin.write(wakeWriteFD, raw.baseAddress, 1)
            #endif
        }
    }

    private func drainWake() {
        var scratch: UInt64 = 0
        while true {
            let count = withUnsafeMutableBytes(of: &scratch) { raw in
                read(wakeReadFD, raw.baseAddress, 8)
            }
            if count <= 0 { return }
            #if os(Linux)
            return
            #endif
        }
    }

    private func startThread() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            let loop = Unmanaged<IOLoop>.fromOpaque(raw).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        thread.withLock { $0 = handle }
    }

    private func run() {
        threadID.store(currentThreadID(), ordering: .releasing)
        var events: [PollerEvent] = []
        events.reserveCapacity(1024)
        while true {
            let (hasTasks, stopping) = inbox.withLock { state -> (Bool, Bool) in
                if state.tasks.isEmpty && !state.stopRequested {
                    state.sleeping = true
                    return (false, false)
                }
                return (!state.tasks.isEmpty, state.stopRequested)
            }
            if stopping { break }
            var timeout: Int32 = -1
            if hasTasks || core.hasPendingFlushes {
                timeout = 0
            } else if let deadline = core.timers.nextDeadline() {
                let now = monotonicNanoseconds()
                if deadline <= now {
                    timeout = 0
                } else {
                    let milliseconds = (deadline - now + 999_999) / 1_000_000
                    timeout = Int32(min(milliseconds, UInt64(Int32.max)))
                }
            }
            events.removeAll(keepingCapacity: true)
            do {
                try core.poller.wait(timeoutMilliseconds: timeout, into: &events)
            } catch {
                // A failing wait (EBADF, ENOMEM) would spin; stop the loop instead.
                stop()
            }
            inbox.withLock { $0.sleeping = false }
            for event in events {
                if event.token == LoopCore.wakeToken {
                    drainWake()
                } else {
                    core.dispatch(event)
                }
            }
            core.dispatchCompletions()
            core.flushPending()
            if core.timers.count > 0 {
                for action in core.timers.popDue(now: monotonicNanoseconds()) {
                    action()
                }
            }
            runTasks()
            core.runLocalTasks()
            core.flushPending()
        }
        core.closeEverything()
        runTasks()
        core.runLocalTasks()
        // From here `execute` refuses work; what was queued before runs once (so every
        // continuation waiting on it is resumed), then whatever it opened is closed too.
        let (leftover, waiters) = inbox.withLock { state -> ([@Sendable () -> Void], [CheckedContinuation<Void, Never>]) in
            state.exited = true
            let leftover = state.tasks
            state.tasks = []
            let waiters = state.exitWaiters
            state.exitWaiters = []
            return (leftover, waiters)
        }
        for task in leftover { task() }
        core.runLocalTasks()
        core.closeEverything()
        core.drainOperations()
        core.poller.deregister(wakeReadFD, token: LoopCore.wakeToken)
        core.poller.close()
        closeDescriptor(wakeReadFD)
        if wakeWriteFD != wakeReadFD { closeDescriptor(wakeWriteFD) }
        core.release()
        for waiter in waiters { waiter.resume() }
    }

    private func runTasks() {
        let tasks = inbox.withLock { state -> [@Sendable () -> Void] in
            let tasks = state.tasks
            state.tasks.removeAll(keepingCapacity: true)
            return tasks
        }
        for task in tasks { task() }
    }
}

extension IOLoop {
    /// Runs `body` on the loop thread and returns its result to the caller.
    ///
    /// This waits only for the loop to run `body` (a hop, not I/O), so it does not react to
    /// task cancellation: `body` runs and its result is returned either way.
    public func submit<T: Sendable>(_ body: @escaping @Sendable () throws(TransportError) -> T) async throws(TransportError) -> T {
        let result: Result<T, TransportError> = await withCheckedContinuation { continuation in
            let accepted = execute {
                do throws(TransportError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if !accepted { continuation.resume(returning: .failure(.loopStopped)) }
        }
        return try result.get()
    }
}

/// Something registered with a loop's poller.
protocol Selectable: AnyObject {
    /// Handles one readiness event.
    func handle(_ event: PollerEvent)
    /// The loop is stopping: close and tell whoever listens.
    func loopWillStop()
}

/// The loop-thread state of an ``IOLoop``: poller, registrations, timers and buffers.
final class LoopCore {
    static let wakeToken: UInt64 = UInt64.max

    private struct Slot {
        var generation: UInt32 = 0
        var object: (any Selectable)?
        var interest: Interest = []
    }

    let poller: any Poller
    /// The completion-model half of the backend (io_uring here, IOCP on Windows), or nil.
    let proactor: (any Proactor)?
    /// In-flight operations per owner (completion model only).
    var operations = OperationTable()
    private var completionBatch: [Completion] = []
    private var sendBatches: [SendBatch] = []
    var timers = TimerHeap()
    private var slots: [Slot] = []
    /// The loop-owned read buffer every connection reads into; idle connections hold none.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Scratch `iovec`s for gathered writes.
    let vectors: UnsafeMutablePointer<iovec>
    static let vectorCapacity = 64
    private var datagramStorage: UnsafeMutableRawBufferPointer?
    /// The plaintext scratch buffer TLS connections decrypt into (empty until TLS is used).
    private var tlsScratch: [UInt8] = []
    /// Storage lent to write-queue tails (`Connection.write { buffer in ... }`),
    /// taken back once written.
    private var writeScratch: [[UInt8]] = []
    private var pendingFlushes: [Connection] = []
    private var localTasks: [() -> Void] = []
    /// Open connections on this loop.
    private(set) var connectionCount = 0
    /// Connections per server, for graceful shutdown.
    var serverConnections: [UInt64: [ObjectIdentifier: Connection]] = [:]

    init(poller: any Poller) {
        self.poller = poller
        self.proactor = poller.proactor
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        vectors = UnsafeMutablePointer<iovec>.allocate(capacity: LoopCore.vectorCapacity)
    }

    var isEdgeTriggered: Bool { poller.isEdgeTriggered }
    var hasPendingFlushes: Bool { !pendingFlushes.isEmpty || !localTasks.isEmpty }

    /// Runs `task` on this loop's next tick (loop thread only; no lock, no Sendable needed).
    func runSoon(_ task: @escaping () -> Void) {
        localTasks.append(task)
    }

    func runLocalTasks() {
        while !localTasks.isEmpty {
            let batch = localTasks
            localTasks.removeAll(keepingCapacity: true)
            for task in batch { task() }
        }
    }

    /// Datagram receive slots: `slotCount` buffers of `slotSize` bytes, allocated on first use.
    static let datagramSlotSize = 65_536
    static let datagramSlotCount = 8
    var datagramBuffer: UnsafeMutableRawBufferPointer {
        if let datagramStorage { return datagramStorage }
        let storage = UnsafeMutableRawBufferPointer.allocate(
            byteCount: LoopCore.datagramSlotSize * LoopCore.datagramSlotCount, alignment: 16)
        datagramStorage = storage
        return storage
    }

    /// Lends the TLS plaintext scratch buffer; give it back with ``returnTLSScratch(_:)``.
    func takeTLSScratch() -> [UInt8] {
        var scratch: [UInt8] = []
        swap(&scratch, &tlsScratch)
        return scratch
    }

    /// Takes the scratch buffer back, emptied but keeping its capacity (up to 1 MiB).
    func returnTLSScratch(_ scratch: inout [UInt8]) {
        guard scratch.capacity <= 1 << 20 else { return }
        scratch.removeAll(keepingCapacity: true)
        swap(&scratch, &tlsScratch)
    }

    /// Lends storage for one write-queue tail (empty; keeps the capacity it had).
    func takeWriteScratch() -> [UInt8] {
        writeScratch.popLast() ?? []
    }

    /// Takes write-queue tail storage back (up to 64 arrays of at most 256 KiB each are kept).
    func returnWriteScratch(_ storage: [UInt8]) {
        guard storage.capacity > 0, storage.capacity <= 256 * 1024, writeScratch.count < 64 else { return }
        var storage = storage
        storage.removeAll(keepingCapacity: true)
        writeScratch.append(storage)
    }

    func register(_ fd: Int32, _ object: any Selectable, interest: Interest) throws(TransportError) {
        let index = Int(fd)
        if index >= slots.count {
            slots.append(contentsOf: repeatElement(Slot(), count: index + 1 - slots.count + 64))
        }
        slots[index].generation &+= 1
        slots[index].object = object
        slots[index].interest = interest
        do {
            try poller.register(fd, token: token(fd), interest: interest)
        } catch {
            slots[index].object = nil
            throw error
        }
    }

    func setInterest(_ fd: Int32, _ interest: Interest) throws(TransportError) {
        let index = Int(fd)
        guard index < slots.count, slots[index].object != nil, slots[index].interest != interest else { return }
        slots[index].interest = interest
        try poller.reregister(fd, token: token(fd), interest: interest)
    }

    func deregister(_ fd: Int32) {
        let index = Int(fd)
        guard index < slots.count, slots[index].object != nil else { return }
        poller.deregister(fd, token: token(fd))
        slots[index].object = nil
        slots[index].generation &+= 1
    }

    private func token(_ fd: Int32) -> UInt64 {
        UInt64(slots[Int(fd)].generation) << 32 | UInt64(UInt32(bitPattern: fd))
    }

    func dispatch(_ event: PollerEvent) {
        let index = Int(UInt32(truncatingIfNeeded: event.token))
        let generation = UInt32(truncatingIfNeeded: event.token >> 32)
        guard index < slots.count, slots[index].generation == generation,
              let object = slots[index].object else { return }
        object.handle(event)
    }

    // MARK: Completion model

    /// Gives `owner` a slot in the operation table.
    func openOperations(for owner: any CompletionTarget) -> Int32 {
        operations.open(owner)
    }

    /// Counts an operation of `slot` as submitted (call after the proactor accepted it).
    func operationSubmitted(_ slot: Int32) {
        operations.submitted(slot)
    }

    /// The owner closed: its slot is reused once its last operation has completed.
    func retireOperations(_ slot: Int32) {
        operations.retire(slot)
    }

    /// Hands each completion of the last wait to its owner and recycles the receive buffers the
    /// owners did not keep (including those of owners that have closed meanwhile).
    func dispatchCompletions() {
        guard let proactor else { return }
        proactor.takeCompletions(into: &completionBatch)
        if completionBatch.isEmpty { return }
        for completion in completionBatch {
            let live = operations.isLive(completion.tag.slot)
            let owner = operations.owner(completing: completion)
            var kept = false
            if live, let owner {
                kept = owner.complete(completion)
            } else if completion.tag.kind == .accept && completion.result >= 0 {
                // A multishot accept raced its listener's close: nobody will own this socket.
                closeDescriptor(completion.result)
            }
            if !kept, let buffer = completion.buffer { recycle(buffer) }
        }
        completionBatch.removeAll(keepingCapacity: true)
    }

    /// Lends send vectors for one send (from the pool, or new).
    func takeSendBatch() -> SendBatch {
        sendBatches.popLast() ?? SendBatch()
    }

    /// Takes send vectors back once their send completed (kept up to a bound, else freed).
    func returnSendBatch(_ batch: SendBatch) {
        if sendBatches.count < 1024 {
            sendBatches.append(batch)
        } else {
            batch.deallocate()
        }
    }

    /// Gives a receive buffer back to the pool.
    func recycle(_ buffer: ReceivedBuffer) {
        proactor?.recycle(buffer)
    }

    /// At loop exit: waits (up to about a second) until every cancelled operation has completed,
    /// so no kernel work still points at memory the loop is about to free.
    func drainOperations() {
        guard proactor != nil else { return }
        var events: [PollerEvent] = []
        var rounds = 0
        while operations.inFlight > 0 && rounds < 100 {
            events.removeAll(keepingCapacity: true)
            do { try poller.wait(timeoutMilliseconds: 10, into: &events) } catch { break }
            dispatchCompletions()
            rounds += 1
        }
    }

    func connectionOpened() { connectionCount += 1 }
    func connectionClosed() { connectionCount -= 1 }

    func requestFlush(_ connection: Connection) {
        pendingFlushes.append(connection)
    }

    func flushPending() {
        while !pendingFlushes.isEmpty {
            let batch = pendingFlushes
            pendingFlushes.removeAll(keepingCapacity: true)
            for connection in batch { connection.flushIfRequested() }
        }
    }

    func closeEverything() {
        for slot in slots {
            slot.object?.loopWillStop()
        }
        for target in operations.liveTargets {
            target.loopWillStop()
        }
        timers.removeAll()
    }

    func release() {
        readBuffer.deallocate()
        vectors.deallocate()
        datagramStorage?.deallocate()
        datagramStorage = nil
        tlsScratch = []
        writeScratch = []
        operations.removeAll()
        for batch in sendBatches { batch.deallocate() }
        sendBatches = []
        slots = []
        pendingFlushes = []
        localTasks = []
    }
}
