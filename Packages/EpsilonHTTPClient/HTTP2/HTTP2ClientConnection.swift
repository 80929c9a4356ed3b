import EpsilonHTTP2
import EpsilonTransport
import HTTPTypes
import Synchronization

/// One HTTP/2 client connection: an ``HTTP2Connection`` machine (client role) over an
/// ``AsyncConnection``, multiplexing the pool's requests up to the peer's
/// SETTINGS_MAX_CONCURRENT_STREAMS.
///
/// A reader task feeds every received byte to the machine and files the events into per-stream
/// records; request tasks and body readers wait on those records. Flow control ties the server
/// to the reader: windows are replenished by hand (``HTTP2Configuration/WindowReplenishment/manual``)
/// as the application takes chunks, so a slow consumer slows the server and a stream buffers at
/// most its window. No PING is sent: an idle connection costs nothing and is closed by the
/// pool's idle timeout.
final class HTTP2ClientConnection: Sendable {
    /// What the connection tells the pool.
    enum Change: Sendable {
        /// A stream slot came free, or the peer allows more streams.
        case capacity
        /// No new stream may start here (GOAWAY, an error, the socket closed).
        case unusable
    }

    private struct State {
        var machine: HTTP2Connection
        var streams: [UInt32: HTTP2StreamRecord] = [:]
        var outbound: [UInt8] = []
        /// A drain task writes (and waits for the kernel); bytes are taken by it alone.
        var flushing = false
        /// A loop job that hands the machine's output to the socket is pending.
        var flushScheduled = false
        /// Request bodies being sent: their DATA goes through the drain task, which waits for
        /// the socket (so a body goes no faster than the socket takes it).
        var bodySenders = 0
        /// Streams reserved by the pool and not yet released (open ones included); the first is
        /// the request that opened the connection.
        var reserved = 1
        var goingAway = false
        var failure: HTTPClientError?
        var closing = false
        var closeWhenFlushed = false
        var drainWaiters: [DrainWaiter] = []
        var nextDrainWaiterID: UInt64 = 0
        /// When the last stream was released (for the pool's idle timeout).
        var idleSince: UInt64
        /// Streams the peer allows; until its SETTINGS arrive, our own default.
        var maxStreams: Int
        /// When the pending deadline timer fires, or nil when none is pending.
        var deadlineTimerAt: UInt64?
    }

    private struct DrainWaiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, Never>
    }

    let transport: AsyncConnection
    let origin: ClientOrigin
    let openedAt: UInt64
    private let state: Mutex<State>
    /// A box, not a closure, in the mutex: an `inout` access to a function value held
    /// generically goes through a reabstraction thunk, and each write-back wrapped the closure
    /// in one more (a chain that grew with every notification: 40% of the CPU after 20,000
    /// requests).
    private let observer = Mutex<HTTP2ConnectionObserver?>(nil)

    /// A connection over `transport` (TLS already agreed on `h2`, or cleartext with prior
    /// knowledge); `receiveWindow` bounds what each stream buffers unread. One stream slot is
    /// reserved already, for the request that opened it.
    init(transport: AsyncConnection, origin: ClientOrigin, receiveWindow: Int) {
        self.transport = transport
        self.origin = origin
        let now = MonotonicClock.now()
        openedAt = now
        let configuration = Self.machineConfiguration(receiveWindow: receiveWindow)
        state = Mutex(State(machine: HTTP2Connection(role: .client, configuration: configuration), idleSince: now,
                            maxStreams: 100))
    }

    /// Starts the reader and sends the preface; `observer` hears of freed slots and the end.
    func start(observer: @escaping @Sendable (HTTP2ClientConnection, Change) -> Void) {
        let box = HTTP2ConnectionObserver(notify: observer)
        self.observer.withLock { $0 = box }
        flush()
        Task { await self.readLoop() }
    }

    /// Closes the connection; streams on it fail with ``HTTPClientError/connectionLost(_:)``.
    func close() {
        let transport = self.transport
        Task { await transport.close() }
    }

    // MARK: Pool

    /// Whether no stream is reserved and since when (for the idle timeout).
    var idleSince: UInt64? {
        state.withLock { $0.reserved == 0 ? $0.idleSince : nil }
    }

    /// Whether new streams may start here.
    var isUsable: Bool { state.withLock { !$0.goingAway && $0.failure == nil } }

    /// Reserves a stream slot if the peer's limit allows one more (called under the pool's lock).
    func reserveStream() -> Bool {
        state.withLock { state in
            guard !state.goingAway, state.failure == nil, state.reserved < state.maxStreams else { return false }
            state.reserved += 1
            return true
        }
    }

    /// Gives back a slot reserved by ``reserveStream()`` that no stream used.
    func unreserve() {
        state.withLock { state in
            state.reserved -= 1
            if state.reserved == 0 { state.idleSince = MonotonicClock.now() }
        }
        notify(.capacity)
    }

    // MARK: Streams

    /// Starts a request on a reserved slot: its HEADERS are queued (sent by the next flush).
    func startStream(_ fields: HTTP2HeaderList, endStream: Bool) throws(HTTPClientError) -> UInt32 {
        let result = state.withLock { state -> Result<UInt32, HTTPClientError> in
            if let failure = state.failure { return .failure(failure) }
            if state.goingAway, let last = state.machine.goawayReceivedLastStreamID {
                return .failure(.http2GoAwayUnprocessed(lastStreamID: last))
            }
            do {
                let id = try state.machine.startRequest(fields, endStream: endStream)
                var record = HTTP2StreamRecord()
                record.localEnded = endStream
                state.streams[id] = record
                return .success(id)
            } catch {
                // Over the peer's limit (it shrank), or identifiers exhausted: not sent, so
                // another connection may take it.
                return .failure(.http2StreamRefused)
            }
        }
        switch result {
        case .success(let id): return id
        case .failure(let error):
            unreserve()
            throw error
        }
    }

    /// The stream's final response head if it already arrived.
    func headIfReceived(of id: UInt32) -> HTTPResponse? {
        state.withLock { $0.streams[id]?.head }
    }

    /// Waits for the stream's final response head.
    func head(of id: UInt32) async throws(HTTPClientError) -> HTTPResponse {
        let result = await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: HTTP2StreamRecord.HeadContinuation) in
                let ready = state.withLock { state -> Result<HTTPResponse, HTTPClientError>? in
                    guard state.streams[id] != nil else { return .failure(.cancelled) }
                    if let error = state.streams[id]!.error { return .failure(error) }
                    if let head = state.streams[id]!.head { return .success(head) }
                    if Task.isCancelled { return .failure(.cancelled) }
                    state.streams[id]!.headWaiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            self.fail(id, with: .cancelled)
        }
        return try result.get()
    }

    /// The stream's next body chunk, or nil at its end (the stream is then released).
    func nextChunk(of id: UInt32) async throws(HTTPClientError) -> [UInt8]? {
        let result = await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: HTTP2StreamRecord.ChunkContinuation) in
                let ready = state.withLock { state -> Result<[UInt8]?, HTTPClientError>? in
                    guard state.streams[id] != nil else { return .failure(.cancelled) }
                    if state.streams[id]!.hasChunk {
                        let chunk = state.streams[id]!.takeChunk()
                        state.machine.consume(streamID: id, count: chunk.count)
                        return .success(chunk)
                    }
                    if let error = state.streams[id]!.error { return .failure(error) }
                    if state.streams[id]!.remoteEnded { return .success(nil) }
                    if Task.isCancelled { return .failure(.cancelled) }
                    state.streams[id]!.chunkWaiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            self.fail(id, with: .cancelled)
        }
        // Credit (a WINDOW_UPDATE) may be due.
        flush()
        switch result {
        case .success(let chunk?): return chunk
        case .success(nil):
            release(id)
            return nil
        case .failure(let error): throw error
        }
    }

    /// Sends `bytes` on the stream as its window allows, waiting for WINDOW_UPDATEs; with
    /// `end`, the last frame carries END_STREAM.
    func send(_ bytes: [UInt8], endStream: Bool, on id: UInt32) async throws(HTTPClientError) {
        state.withLock { $0.bodySenders += 1 }
        defer { state.withLock { $0.bodySenders -= 1 } }
        var offset = 0
        while true {
            let outcome = state.withLock { state -> Result<Bool, HTTPClientError> in
                guard state.streams[id] != nil else { return .failure(.cancelled) }
                if let error = state.streams[id]!.error { return .failure(error) }
                let sent: Int
                do {
                    sent = try bytes.withUnsafeBytes { buffer throws(HTTP2UsageError) in
                        try state.machine.sendData(streamID: id, UnsafeRawBufferPointer(rebasing: buffer[offset...]),
                                                   endStream: endStream)
                    }
                } catch {
                    return .failure(state.streams[id]!.remoteEnded ? .cancelled : .invalidRequest("HTTP/2: \(error)"))
                }
                offset += sent
                guard offset == bytes.count else { return .success(false) }
                if endStream { state.streams[id]!.localEnded = true }
                return .success(true)
            }
            flush()
            await waitForRoom(below: 1 << 20)
            switch outcome {
            case .failure(let error): throw error
            case .success(true): return
            case .success(false): try await waitForWindow(id)
            }
        }
    }

    /// Waits until the stream may send again.
    private func waitForWindow(_ id: UInt32) async throws(HTTPClientError) {
        let result = await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: HTTP2StreamRecord.WindowContinuation) in
                let ready = state.withLock { state -> Result<Void, HTTPClientError>? in
                    guard state.streams[id] != nil else { return .failure(.cancelled) }
                    if let error = state.streams[id]!.error { return .failure(error) }
                    if state.machine.sendWindow(streamID: id) > 0 { return .success(()) }
                    if Task.isCancelled { return .failure(.cancelled) }
                    state.streams[id]!.windowWaiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            self.fail(id, with: .cancelled)
        }
        try result.get()
    }

    /// Fails the stream (a timeout, cancellation): waiters wake with `error` and the server gets
    /// RST_STREAM(CANCEL). The slot stays reserved until the stream is released.
    func fail(_ id: UInt32, with error: HTTPClientError) {
        let wakeups = state.withLock { state -> HTTP2Wakeups in
            var wakeups = HTTP2Wakeups()
            guard state.streams[id] != nil, state.streams[id]!.error == nil else { return wakeups }
            state.streams[id]!.fail(error, into: &wakeups)
            resetIfOpen(id, &state)
            return wakeups
        }
        wakeups.run()
        flush()
    }

    /// Forgets the stream: a stream not yet finished both ways is reset (CANCEL), credit for
    /// chunks never read is returned to the connection, and the slot is freed.
    func release(_ id: UInt32) {
        let (found, wakeups) = state.withLock { state -> (Bool, HTTP2Wakeups) in
            var wakeups = HTTP2Wakeups()
            guard state.streams[id] != nil else { return (false, wakeups) }
            if state.streams[id]!.error == nil { state.streams[id]!.fail(.cancelled, into: &wakeups) }
            resetIfOpen(id, &state)
            let unread = state.streams[id]!.bufferedBytes
            if unread > 0 { state.machine.consume(streamID: id, count: unread) }
            state.streams[id] = nil
            state.reserved -= 1
            if state.reserved == 0 { state.idleSince = MonotonicClock.now() }
            return (true, wakeups)
        }
        guard found else { return }
        wakeups.run()
        flush()
        notify(.capacity)
        closeIfDrained()
    }

    // MARK: Deadlines

    /// Changes stream `id`'s deadlines with `change`; arms the connection's timer only when the
    /// stream's next deadline comes before the pending one (moving a deadline later arms nothing:
    /// a timer that fires early re-arms itself for the earliest deadline then).
    func updateDeadlines(of id: UInt32, now: UInt64, _ change: (inout HTTP2StreamRecord) -> Void) {
        let arm = state.withLock { state -> UInt64? in
            guard state.streams[id] != nil else { return nil }
            change(&state.streams[id]!)
            guard let next = state.streams[id]!.nextDeadline?.at else { return nil }
            if let armed = state.deadlineTimerAt, armed <= next { return nil }
            state.deadlineTimerAt = next
            return next > now ? next - now : 0
        }
        if let arm { scheduleDeadlineTimer(in: arm) }
    }

    private func scheduleDeadlineTimer(in nanoseconds: UInt64) {
        transport.loop.schedule(after: .nanoseconds(Int64(min(nanoseconds, UInt64(Int64.max))))) { [weak self] in
            self?.deadlineTimerFired()
        }
    }

    /// Fails every stream past its deadline (RST_STREAM(CANCEL), its own timeout error) and
    /// re-arms for the earliest deadline left.
    private func deadlineTimerFired() {
        let now = MonotonicClock.now()
        var expired: [(UInt32, HTTPClientError)] = []
        let rearm = state.withLock { state -> UInt64? in
            state.deadlineTimerAt = nil
            var earliest: UInt64?
            for (id, record) in state.streams {
                guard let next = record.nextDeadline else { continue }
                if next.at <= now {
                    expired.append((id, next.error))
                } else {
                    earliest = min(earliest ?? next.at, next.at)
                }
            }
            guard let earliest else { return nil }
            state.deadlineTimerAt = earliest
            return earliest - now
        }
        for (id, error) in expired { fail(id, with: error) }
        if let rearm { scheduleDeadlineTimer(in: rearm) }
    }

    /// After GOAWAY, closes the connection once its last stream is released.
    private func closeIfDrained() {
        let drained = state.withLock { state -> Bool in
            guard state.goingAway, state.reserved == 0, !state.closing else { return false }
            state.closing = true
            return true
        }
        if drained { closeAfterFlush() }
    }

    private func resetIfOpen(_ id: UInt32, _ state: inout State) {
        let record = state.streams[id]!
        guard !record.reset, !(record.localEnded && record.remoteEnded) else { return }
        try? state.machine.resetStream(streamID: id, code: .cancel)
        state.streams[id]!.reset = true
    }

    // MARK: I/O

    /// Hands what the machine has queued to the socket.
    ///
    /// Heads, resets and window updates go to the loop thread in one job per batch: the job
    /// takes everything queued by then (many streams' frames, one write at the end of the loop
    /// tick) and queues it without waiting, so no task hop is spent on writing. While a request
    /// body is being sent, or to close, a drain task writes instead and waits for the kernel
    /// (request bodies wait for room behind it). Bytes are taken either by the drain task or,
    /// while none runs, under the lock together with the queueing, so frames keep the
    /// machine's order.
    ///
    /// Neither runs in the calling task: a write from a cancelled task may be dropped before it
    /// is queued, and the RST_STREAM a cancellation sends must not be.
    func flush() {
        enum Action { case none, job, drain }
        let action = state.withLock { state -> Action in
            state.machine.writeOutput(into: &state.outbound)
            if state.flushing { return .none }
            if state.closeWhenFlushed || (state.bodySenders > 0 && !state.outbound.isEmpty) {
                state.flushing = true
                return .drain
            }
            if state.outbound.isEmpty || state.flushScheduled { return .none }
            state.flushScheduled = true
            return .job
        }
        switch action {
        case .none: break
        case .job:
            if !transport.loop.execute({ self.flushOnLoop() }) {
                // The loop stopped: the connection is closed, and the reader reports it.
                state.withLock { $0.flushScheduled = false }
            }
        case .drain: Task { await self.drain() }
        }
    }

    /// The loop job of ``flush()``: queues everything the machine has for the socket.
    private func flushOnLoop() {
        let startDrain = state.withLock { state -> Bool in
            state.flushScheduled = false
            state.machine.writeOutput(into: &state.outbound)
            guard !state.flushing, !state.outbound.isEmpty || state.closeWhenFlushed else { return false }
            if state.closeWhenFlushed || state.bodySenders > 0 {
                state.flushing = true
                return true
            }
            var taken: [UInt8] = []
            swap(&taken, &state.outbound)
            transport.enqueue(taken)  // under the lock: no drain can queue bytes before these
            return false
        }
        if startDrain { Task { await self.drain() } }
    }

    /// Flushes, then closes the socket (after a GOAWAY, or once a draining connection is done).
    func closeAfterFlush() {
        state.withLock { $0.closeWhenFlushed = true }
        flush()
    }

    /// Writes until nothing is queued, waking request bodies that wait for room.
    private func drain() async {
        while true {
            let (bytes, waiters, close) = state.withLock { state -> ([UInt8]?, [DrainWaiter], Bool) in
                state.machine.writeOutput(into: &state.outbound)
                var waiters: [DrainWaiter] = []
                swap(&waiters, &state.drainWaiters)
                guard !state.outbound.isEmpty else {
                    state.flushing = false
                    return (nil, waiters, state.closeWhenFlushed)
                }
                var taken: [UInt8] = []
                swap(&taken, &state.outbound)
                return (taken, waiters, false)
            }
            for waiter in waiters { waiter.continuation.resume() }
            guard let bytes else {
                if close { await transport.close() }
                return
            }
            do {
                try await transport.write(bytes)
            } catch {
                // The socket broke: the reader sees it and fails the streams.
                let waiters = state.withLock { state -> [DrainWaiter] in
                    state.flushing = false
                    state.outbound = []
                    var waiters: [DrainWaiter] = []
                    swap(&waiters, &state.drainWaiters)
                    return waiters
                }
                for waiter in waiters { waiter.continuation.resume() }
                return
            }
        }
    }

    /// Waits while more than `limit` bytes are queued for the socket (a request body goes no
    /// faster than the socket takes it).
    private func waitForRoom(below limit: Int) async {
        let id = state.withLock { state -> UInt64 in
            state.nextDrainWaiterID &+= 1
            return state.nextDrainWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let wait = state.withLock { state -> Bool in
                    guard state.flushing, state.outbound.count > limit, !Task.isCancelled else { return false }
                    state.drainWaiters.append(DrainWaiter(id: id, continuation: continuation))
                    return true
                }
                if !wait { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> DrainWaiter? in
                guard let index = state.drainWaiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.drainWaiters.remove(at: index)
            }
            waiter?.continuation.resume()
        }
    }

    /// Reads until the socket closes, feeding the machine.
    private func readLoop() async {
        var ending: HTTPClientError = .connectionLost(nil)
        while true {
            let read: [UInt8]?
            do {
                read = try await transport.read()
            } catch {
                ending = .connectionLost(error)
                break
            }
            guard let read else { break }
            if let error = receive(read) {
                ending = error
                break
            }
        }
        shutDown(ending)
    }

    /// Feeds `bytes` to the machine; returns the connection's error if it broke.
    private func receive(_ bytes: [UInt8]) -> HTTPClientError? {
        let now = MonotonicClock.now()
        var change: Change?
        let (wakeups, failed, needsFlush) = state.withLock { state -> (HTTP2Wakeups, HTTPClientError?, Bool) in
            var sink = HTTP2ClientEventSink(streams: [:])
            swap(&sink.streams, &state.streams)
            var failed: HTTPClientError?
            do throws(HTTP2ConnectionError) {
                try state.machine.receive(bytes, now: now, handler: &sink)
            } catch {
                failed = .http2ProtocolError(error)
            }
            swap(&sink.streams, &state.streams)
            var wakeups = sink.wakeups
            if sink.settingsChanged {
                state.maxStreams = max(0, min(state.machine.peerSettings.maxConcurrentStreams, 1 << 20))
                change = .capacity
            }
            if sink.goingAway || failed != nil {
                state.goingAway = true
                change = .unusable
            }
            if let failed {
                state.failure = failed
                for id in Array(state.streams.keys) { state.streams[id]!.fail(failed, into: &wakeups) }
            }
            state.machine.writeOutput(into: &state.outbound)
            return (wakeups, failed, !state.outbound.isEmpty && !state.flushing)
        }
        // The pool hears first: after GOAWAY, a request woken below that asks for a connection
        // finds this one's slot already freed.
        if let change { notify(change) }
        wakeups.run()
        // The reader never waits for a write (two peers both writing could stall each other).
        if needsFlush { flush() }
        if change == .unusable { closeIfDrained() }
        if failed != nil { closeAfterFlush() }  // after the GOAWAY that says why
        return failed
    }

    /// The socket closed (or the connection failed): every stream fails, the pool forgets it.
    private func shutDown(_ error: HTTPClientError) {
        let wakeups = state.withLock { state -> HTTP2Wakeups in
            var wakeups = HTTP2Wakeups()
            if state.failure == nil { state.failure = error }
            let failure = state.failure!
            for id in Array(state.streams.keys) {
                let record = state.streams[id]!
                if record.remoteEnded { continue }  // whole already: its chunks stay readable
                let streamError: HTTPClientError
                if case .connectionLost = failure, record.head == nil && !record.hasChunk {
                    streamError = .closedBeforeResponse
                } else {
                    streamError = failure
                }
                state.streams[id]!.fail(streamError, into: &wakeups)
            }
            return wakeups
        }
        wakeups.run()
        notify(.unusable)
        close()
    }

    private func notify(_ change: Change) {
        let observer = self.observer.withLock { $0 }
        observer?.notify(self, change)
    }
}

/// The pool's callback for one connection.
private final class HTTP2ConnectionObserver: Sendable {
    let notify: @Sendable (HTTP2ClientConnection, HTTP2ClientConnection.Change) -> Void

    init(notify: @escaping @Sendable (HTTP2ClientConnection, HTTP2ClientConnection.Change) -> Void) {
        self.notify = notify
    }
}
