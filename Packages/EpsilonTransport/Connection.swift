#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims
import EpsilonTLS

/// A stream connection (TCP over IPv4/IPv6, or a Unix domain socket) owned by one event loop.
///
/// All methods must be called on the loop's thread (use ``IOLoop/execute(_:)`` from
/// elsewhere, or the async face ``AsyncConnection``). Writes are copied into a write queue and
/// flushed with one gathered `sendmsg` per loop tick; ``isWritable`` reports back-pressure.
///
/// With ``SocketOptions/tls`` set, a TLS engine sits between the socket and the handler: reads
/// are decrypted into a loop-owned scratch buffer and the handler sees plaintext; writes are
/// encrypted straight into the write queue; the closing calls send `close_notify`; TLS
/// failures close the connection with ``TransportError/tls(_:)``. Without it the handler reads
/// the loop's read buffer itself (no copy).
public final class Connection: Selectable {
    enum State {
        case connecting
        case active
        case closed
    }

    /// The loop that owns this connection.
    public let loop: IOLoop
    /// The socket descriptor (valid until the connection closes).
    public let descriptor: Int32
    /// The local address, once known.
    public internal(set) var localAddress: SocketEndpoint?
    /// The peer address, once known.
    public internal(set) var remoteAddress: SocketEndpoint?
    /// The protocol handler driven by this connection.
    public var handler: any ConnectionHandler

    let core: LoopCore
    var state: State
    var queue = WriteQueue()
    /// A file part queued with `sendFile` (Connection+FileRegion.swift), sent after `queue`'s bytes before it.
    var fileRegion: FileRegion?
    let watermarks: WriteWatermarks
    /// The handler asked for a pause (``pauseReading()``).
    var pausedByHandler = false
    /// Reading stopped because the write queue went above its high watermark (see
    /// ``pausesReadingAboveHighWatermark``); it resumes at the low watermark.
    var pausedByWriteQueue = false
    /// Reads are not delivered now, for either reason.
    var readingPaused: Bool { pausedByHandler || pausedByWriteQueue }
    /// Whether reading pauses while the write queue is above its high watermark.
    private var pauseOnHighWatermark: Bool
    var readEOF = false
    var outputShutdownRequested = false
    private var outputShutdown = false
    var closeWhenFlushed = false
    private var flushRequested = false
    var resumeReadScheduled = false
    var connectTimer: LoopTimer?
    var connectCompletion: ((Result<Connection, TransportError>) -> Void)?
    let idleNanoseconds: UInt64?
    var lastActivity: UInt64 = 0
    var idleTimer: LoopTimer?
    var serverID: UInt64?
    /// The TLS layer between the socket and the handler, or nil for a plain connection
    /// (TLSStream.swift: everything TLS-specific lives there).
    /// Set at creation, or later by ``startTLS(_:)`` (Connection+StartTLS.swift).
    var tls: TLSStream?
    /// The error that is closing the connection (a TLS failure), kept over whatever a last
    /// flush of the alert runs into.
    var closingError: TransportError?

    // Completion model (see Connection+Completion.swift); unused by readiness backends.
    /// This connection's slot in the loop's operation table, or -1 with a readiness backend.
    var operationSlot: Int32 = -1
    var receiveInFlight = false
    var sendInFlight = false
    var connectInFlight = false
    /// The vectors of the send in flight, lent by the loop's pool until the send completes.
    var sendBatch: SendBatch?
    /// Data received while reading was paused, delivered on resume.
    var parkedBuffer: ReceivedBuffer?
    /// The peer address of a connect in flight (the kernel reads it until the connect completes).
    var connectAddress: UnsafeMutablePointer<sockaddr_storage>?
    /// True when this connection is driven by completions (io_uring, IOCP) rather than readiness.
    var usesCompletions: Bool { operationSlot >= 0 }

    /// False while more than the high watermark of bytes waits in the write queue.
    public private(set) var isWritable = true
    /// True once the connection is closed.
    public var isClosed: Bool { state == .closed }
    /// Bytes queued but not yet accepted by the kernel.
    public var pendingWriteBytes: Int { queue.pendingBytes }
    /// True once the peer shut down its sending side (with TLS: its `close_notify` arrived).
    public var didReadEOF: Bool { readEOF || tls?.closeNotifyReported == true }
    /// The TLS engine between the socket and the handler, or nil for a plain connection. Read
    /// the negotiated values from it (``TLSEngine/version``, ``TLSEngine/applicationProtocol``,
    /// ``TLSEngine/peerCertificate``, ``TLSEngine/session``); the connection drives it.
    public var tlsEngine: TLSEngine? { tls?.engine }

    init(loop: IOLoop, descriptor: Int32, connecting: Bool, options: SocketOptions, tls: TLSEngine?,
         handler: any ConnectionHandler) {
        self.loop = loop
        self.tls = tls.map { TLSStream(engine: $0, options: options.tls) }
        self.core = loop.core
        self.descriptor = descriptor
        self.state = connecting ? .connecting : .active
        self.handler = handler
        self.watermarks = options.watermarks
        self.pauseOnHighWatermark = options.pausesReadingAboveHighWatermark
        self.idleNanoseconds = options.idleTimeout.map(nanoseconds)
        core.connectionOpened()
    }

    deinit {
        // Closed connections have freed their queue; this only guards against a leak if a
        // connection is dropped while the loop tears down.
        // With the completion model it also frees what the kernel held until the last
        // operation completed (the table kept this object alive until then).
        _ = queue.drop()
        sendBatch?.deallocate()
        connectAddress?.deallocate()
    }

    // MARK: Events

    func handle(_ event: PollerEvent) {
        switch state {
        case .closed:
            return
        case .connecting:
            guard event.writable || event.error || event.hangup else { return }
            finishConnect()
            guard state == .active else { return }
            if core.isEdgeTriggered {
                // The same edge may also have carried data or the peer's FIN; it will not be
                // reported again, so read now.
                readAvailable(force: false)
                return
            }
        case .active:
            break
        }
        if event.readable || event.error || (event.hangup && !readEOF) {
            readAvailable(force: event.error || event.hangup)
        } else if event.hangup && readEOF {
            // Both directions are gone; a write would fail, so stop here.
            close(error: queue.isEmpty ? nil : .connectionReset)
            return
        }
        if state == .active && event.writable && (!queue.isEmpty || fileRegion != nil) {
            flush()
        }
    }

    func loopWillStop() {
        if let completion = connectCompletion {
            connectCompletion = nil
            close(error: .loopStopped)
            completion(.failure(.loopStopped))
        } else {
            close(error: .loopStopped)
        }
    }

    private func readAvailable(force: Bool) {
        let buffer = core.readBuffer
        let edge = core.isEdgeTriggered
        var reads = 0
        while state == .active && !readEOF && (force || !readingPaused) {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count > 0 {
                deliver(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                reads += 1
                // Level-triggered: a short read drained the socket, and capping reads per event
                // keeps one busy connection from starving the others (the poller reports it again).
                if !edge && (count < buffer.count || reads >= 4) { break }
                continue
            }
            if count == 0 {
                didReachEndOfStream()
                break
            }
            let code = epsilon_errno()
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { break }
            close(error: code == ECONNRESET || code == EPIPE ? .connectionReset : .system(call: "read", errno: code))
            return
        }
        if state == .active && !queue.isEmpty { flush() }
    }

    /// Hands received bytes (in a loop-owned buffer) to the TLS engine or the handler. Shared
    /// by the readiness and completion paths.
    func deliver(_ bytes: UnsafeRawBufferPointer) {
        if idleNanoseconds != nil { lastActivity = monotonicNanoseconds() }
        if let tls {
            tls.receive(bytes, on: self)  // copied into the engine: the read buffer is free again
        } else {
            handler.connection(self, didRead: bytes)
        }
    }

    /// The peer's FIN arrived. Shared by the readiness and completion paths.
    func didReachEndOfStream() {
        readEOF = true
        updateInterest()
        if let tls {
            tls.receiveEndOfStream(on: self)
        } else {
            handler.connectionDidReadEOF(self)
        }
    }

    // MARK: Reading control

    /// Stops delivering reads (back-pressure towards the peer); the kernel buffers, then TCP
    /// flow control slows the sender.
    public func pauseReading() {
        assert(loop.inEventLoop, "Connection used off its loop's thread")
        guard !pausedByHandler else { return }
        let wasPaused = readingPaused
        pausedByHandler = true
        if !wasPaused { updateInterest() }
    }

    /// Delivers reads again, starting with whatever the kernel already holds (unless the write
    /// queue still holds reading paused; see ``pausesReadingAboveHighWatermark``).
    public func resumeReading() {
        assert(loop.inEventLoop, "Connection used off its loop's thread")
        guard pausedByHandler else { return }
        pausedByHandler = false
        readingDidResume()
    }

    /// Whether reading pauses while more than the high watermark of bytes waits in the write
    /// queue, and resumes once it drains to the low watermark. Default true (from
    /// ``SocketOptions/pausesReadingAboveHighWatermark``): a peer that sends requests and
    /// never reads the answers then costs at most about one read's worth of answers above the
    /// high watermark, instead of growing the queue without bound. A handler that bounds its
    /// output itself may turn it off (for example in
    /// ``ConnectionHandler/connectionDidBecomeActive(_:)``); turning it off resumes a paused read.
    public var pausesReadingAboveHighWatermark: Bool {
        get { pauseOnHighWatermark }
        set {
            assert(loop.inEventLoop, "Connection used off its loop's thread")
            pauseOnHighWatermark = newValue
            if !newValue && pausedByWriteQueue {
                pausedByWriteQueue = false
                readingDidResume()
            } else if newValue && !isWritable && !pausedByWriteQueue {
                pauseForWriteQueue()
            }
        }
    }

    /// The write queue went above the high watermark: stop reading until it drains.
    private func pauseForWriteQueue() {
        let wasPaused = readingPaused
        pausedByWriteQueue = true
        if !wasPaused { updateInterest() }
    }

    /// One cause of a pause went away: when none is left, read again on the next tick.
    private func readingDidResume() {
        guard !readingPaused, state != .closed else { return }
        updateInterest()
        // Edge-triggered pollers will not report data that arrived while paused, so try a read
        // on the next tick for every backend; EAGAIN costs one syscall.
        if !resumeReadScheduled && state == .active {
            resumeReadScheduled = true
            core.runSoon { [weak self] in self?.resumeReadTask() }
        }
    }

    fileprivate func resumeReadTask() {
        resumeReadScheduled = false
        guard state == .active && !readingPaused && !readEOF else { return }
        if usesCompletions {
            resumeReceiving()
        } else {
            readAvailable(force: false)
        }
    }

    /// True while reads are paused, by ``pauseReading()`` or by a full write queue
    /// (``isReadingPausedByWriteQueue``).
    public var isReadingPaused: Bool { readingPaused }
    /// True while reads are paused because the write queue is above its high watermark.
    public var isReadingPausedByWriteQueue: Bool { pausedByWriteQueue }

    // MARK: Writing

    /// Queues a copy of `bytes`; they go out with the next gathered write (at the latest
    /// when the current loop tick ends). `completion`, if given, runs on the loop once the
    /// bytes are handed to the kernel, or with an error if the connection closes first.
    public func write(_ bytes: UnsafeRawBufferPointer, completion: ((TransportError?) -> Void)? = nil) {
        guard acceptsWrite(completion: completion) else { return }
        if let tls {
            tls.write(bytes, on: self, completion: completion)
            return
        }
        queue.append(bytes)
        if let completion { queue.appendCompletion(completion) }
        queueDidGrow()
    }

    /// Whether a write may be queued now; if not (closed, or output shut down), fails
    /// `completion` with the reason. Loop thread only.
    func acceptsWrite(completion: ((TransportError?) -> Void)?) -> Bool {
        assert(loop.inEventLoop, "Connection used off its loop's thread")
        guard state != .closed else {
            completion?(.closed)
            return false
        }
        guard !outputShutdownRequested else {
            completion?(.outputShutdown)
            return false
        }
        return true
    }

    /// Checks the high watermark and asks for a flush after bytes joined the queue.
    func queueDidGrow() {
        if isWritable && queue.pendingBytes > watermarks.high {
            isWritable = false
            if pauseOnHighWatermark { pauseForWriteQueue() }
            handler.connectionWritabilityDidChange(self)
        }
        requestFlush()
    }

    /// Lets `body` append bytes straight to the write queue's tail, for a protocol machine's
    /// output without an intermediate array:
    ///
    /// ```swift
    /// connection.write { (buffer: inout [UInt8]) in machine.writeOutput(into: &buffer) }
    /// ```
    ///
    /// `body` must only append (the bytes already in `buffer` are queued output). The buffer's
    /// storage is lent by the loop and given back once its bytes are written, so in steady
    /// state this allocates nothing and an idle connection holds no buffer; with a readiness
    /// backend the kernel reads the bytes from it directly (a completion backend such as
    /// io_uring first moves them into the queue's chunks, one copy, as ``write(_:completion:)-(UnsafeRawBufferPointer,_)``
    /// makes). The appended bytes count towards ``pendingWriteBytes`` and the watermarks like
    /// any write: check ``isWritable`` (or rely on ``pausesReadingAboveHighWatermark``) to
    /// bound what a machine produces. With TLS the bytes appended are plaintext: the engine
    /// encrypts them into the queue. On a closed connection, or after ``shutdownOutput()``,
    /// `body` is not called.
    public func write(_ body: (inout [UInt8]) -> Void) {
        assert(loop.inEventLoop, "Connection used off its loop's thread")
        guard state != .closed, !outputShutdownRequested else { return }
        var spare = core.takeWriteScratch()
        if let tls {
            body(&spare)
            if !spare.isEmpty { spare.withUnsafeBytes { tls.write($0, on: self, completion: nil) } }
            core.returnWriteScratch(spare)
            return
        }
        let added = queue.appendInPlace(body, spare: &spare)
        if spare.capacity > 0 { core.returnWriteScratch(spare) }
        if added > 0 { queueDidGrow() }
    }

    /// Queues a copy of `bytes` (see ``write(_:completion:)-(UnsafeRawBufferPointer,_)``).
    public func write(_ bytes: [UInt8], completion: ((TransportError?) -> Void)? = nil) {
        bytes.withUnsafeBytes { write($0, completion: completion) }
    }

    /// Queues the UTF-8 bytes of `text`.
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    private func requestFlush() {
        guard !flushRequested && state == .active else { return }
        flushRequested = true
        core.requestFlush(self)
    }

    func flushIfRequested() {
        guard flushRequested else { return }
        flushRequested = false
        if state == .active { flush() }
    }

    /// The queue fell to the low watermark: writable again.
    func setWritable() {
        isWritable = true
        if pausedByWriteQueue {
            pausedByWriteQueue = false
            readingDidResume()
        }
        handler.connectionWritabilityDidChange(self)
    }

    /// Writes as much of the queue as the kernel takes now, with gathered `sendmsg` calls;
    /// the rest waits for writability.
    public func flush() {
        assert(loop.inEventLoop, "Connection used off its loop's thread")
        guard state == .active else { return }
        if usesCompletions {
            // The send in flight (or the one submitted now) finishes the flush when it completes.
            if sendInFlight || submitSend() { return }
            if state != .active { return }
        }
        if fileRegion != nil {
            flushWithFileRegion()
            return
        }
        while !usesCompletions && !queue.isEmpty {
            let vectors = core.vectors
            let written = queue.withPendingVectors(vectors, capacity: LoopCore.vectorCapacity) { count in
                epsilon_sendmsg_iov(descriptor, vectors, Int32(count))
            }
            if written > 0 {
                if idleNanoseconds != nil { lastActivity = monotonicNanoseconds() }
                for completion in queue.consume(written) { completion(nil) }
                if state != .active { return }
                continue
            }
            let code = epsilon_errno()
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { break }
            close(error: code == ECONNRESET || code == EPIPE ? .connectionReset : .system(call: "sendmsg", errno: code))
            return
        }
        finishFlush()
    }

    /// After bytes left the queue: the low watermark, then a requested half-close or close
    /// once the queue is empty. Shared by the readiness and completion paths.
    func finishFlush() {
        if !isWritable && queue.pendingBytes <= watermarks.low {
            setWritable()
            if state != .active { return }
        }
        if queue.isEmpty && fileRegion == nil {
            if let storage = queue.takeWrittenTail() { core.returnWriteScratch(storage) }
            if outputShutdownRequested && !outputShutdown {
                outputShutdown = true
                _ = shutdown(descriptor, Int32(SHUT_WR))
            }
            if closeWhenFlushed {
                close(error: nil)  // not close(): with TLS it flushes, which would come back here
                return
            }
        }
        updateInterest()
    }

    // MARK: Closing

    /// Half-close: sends FIN once queued writes are flushed; reading continues. With TLS,
    /// `close_notify` goes first.
    public func shutdownOutput() {
        assert(loop.inEventLoop, "Connection used off its loop's thread")
        guard state != .closed, !outputShutdownRequested else { return }
        tls?.sendCloseNotify(on: self)
        outputShutdownRequested = true
        if state == .active && queue.isEmpty && fileRegion == nil {
            outputShutdown = true
            _ = shutdown(descriptor, Int32(SHUT_WR))
        }
    }

    /// Closes once every queued byte is written (immediately if none is queued). With TLS,
    /// `close_notify` is queued last.
    public func closeAfterFlush() {
        assert(loop.inEventLoop, "Connection used off its loop's thread")
        guard state != .closed else { return }
        if state == .active { tls?.sendCloseNotify(on: self) }
        if (queue.isEmpty && fileRegion == nil) || state == .connecting {
            close()
        } else {
            closeWhenFlushed = true
            requestFlush()
        }
    }

    /// Closes now, dropping unwritten bytes; the handler's ``ConnectionHandler/connectionDidClose(_:error:)`` runs.
    /// With TLS, `close_notify` is queued and whatever the kernel takes at once is written first.
    public func close() {
        if state == .active, let tls {
            tls.sendCloseNotify(on: self)
            if !queue.isEmpty { flush() }
        }
        close(error: nil)
    }

    /// Closes with an RST instead of a FIN (`SO_LINGER` 0), as a peer reset looks (with TLS,
    /// no `close_notify`: the peer sees a truncated stream).
    public func reset() {
        guard state != .closed else { return }
        _ = epsilon_set_linger_zero(descriptor)
        close(error: nil)
    }

    func close(error: TransportError?) {
        assert(loop.inEventLoop, "Connection used off its loop's thread")
        guard state != .closed else { return }
        let error = closingError ?? error
        state = .closed
        if let timer = connectTimer { loop.cancelTimer(timer) }
        if let timer = idleTimer { loop.cancelTimer(timer) }
        tls?.cancelDeadline(on: loop)
        connectTimer = nil
        idleTimer = nil
        let failed: [(TransportError?) -> Void]
        if usesCompletions {
            failed = closeOperations()
        } else {
            core.deregister(descriptor)
            closeDescriptor(descriptor)
            failed = queue.drop() + (dropFileRegion().map { [$0] } ?? [])
        }
        core.connectionClosed()
        if let serverID {
            core.serverConnections[serverID]?[ObjectIdentifier(self)] = nil
        }
        for completion in failed { completion(error ?? .closed) }
        for completion in tls?.takeCompletionsAwaitingHandshake() ?? [] { completion(error ?? .closed) }
        if let completion = connectCompletion {
            connectCompletion = nil
            completion(.failure(error ?? .closed))
        }
        handler.connectionDidClose(self, error: error)
    }

    func updateInterest() {
        // Completion model: nothing is registered; operations are submitted as needed.
        guard state != .closed, !usesCompletions else { return }
        var interest: Interest = []
        if state == .connecting {
            interest = .write
        } else {
            if !readEOF && !readingPaused { interest.insert(.read) }
            if !queue.isEmpty || fileRegion != nil { interest.insert(.write) }
        }
        do {
            try core.setInterest(descriptor, interest)
        } catch {
            close(error: error)
        }
    }
}
