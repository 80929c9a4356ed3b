#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims

/// A listening stream socket (TCP or Unix) on one loop, accepting with `accept4`.
///
/// Each accepted connection gets a fresh handler from the factory given to
/// ``IOLoop/listen(on:options:makeHandler:)``, or is handed to another loop when the
/// listener distributes accepts across a group.
public final class Listener: Selectable, CompletionTarget {
    /// The loop that owns the listener.
    public let loop: IOLoop
    /// The bound address (with the real port when port 0 was asked for).
    public let localAddress: SocketEndpoint
    /// The descriptor, valid until ``close()``.
    public let descriptor: Int32
    let options: ListenerOptions
    var serverID: UInt64?
    /// Called with each accepted descriptor; it owns the descriptor from then on.
    var acceptor: (Int32) -> Void = { _ in }
    private var closed = false
    private var backoffTimer: LoopTimer?
    private let unixPath: String?
    /// Completion model: the listener's slot in the loop's operation table (-1: readiness).
    private var operationSlot: Int32 = -1
    private var acceptInFlight = false
    /// A bound on accepted connections not yet taken by their consumer (``AsyncListener``):
    /// asked before each accept; nil: unbounded.
    var admission: AcceptQueue?
    /// True while accepting stops because ``admission`` is full; the waiting connections stay
    /// in the kernel's backlog until ``resumeAccepting()``.
    private var heldForRoom = false

    init(loop: IOLoop, descriptor: Int32, localAddress: SocketEndpoint, options: ListenerOptions, unixPath: String?) {
        self.loop = loop
        self.descriptor = descriptor
        self.localAddress = localAddress
        self.options = options
        self.unixPath = unixPath
    }

    /// Creates, binds and listens; registers with `loop` (loop thread only).
    static func open(on loop: IOLoop, address: SocketEndpoint, options: ListenerOptions,
                     admission: AcceptQueue? = nil) throws(TransportError) -> Listener {
        let fd = epsilon_socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .fromErrno("socket") }
        var unixPath: String?
        if case .unixPath(let path) = address {
            unixPath = path
            if options.removeStaleUnixSocket {
                var status = stat()
                if lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
            }
        } else {
            if options.reuseAddress { _ = epsilon_set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1) }
            if options.reusePort {
                let option = epsilon_so_reuseport()
                guard option >= 0, epsilon_set_int_option(fd, SOL_SOCKET, option, 1) == 0 else {
                    closeDescriptor(fd)
                    throw .system(call: "setsockopt(SO_REUSEPORT)", errno: option >= 0 ? epsilon_errno() : ENOPROTOOPT)
                }
            }
        }
        let bound = address.withStorage { storage, length in epsilon_bind(fd, storage, length) }
        guard bound == 0 else {
            let error = TransportError.fromErrno("bind")
            closeDescriptor(fd)
            throw error
        }
        guard systemListen(fd, options.backlog) == 0 else {
            let error = TransportError.fromErrno("listen")
            closeDescriptor(fd)
            throw error
        }
        let local = SocketEndpoint.local(of: fd) ?? address
        let listener = Listener(loop: loop, descriptor: fd, localAddress: local, options: options, unixPath: unixPath)
        listener.admission = admission
        if loop.core.proactor != nil {
            listener.operationSlot = loop.core.openOperations(for: listener)
            listener.submitAccept()
            if listener.closed {
                throw .system(call: "io_uring accept", errno: EBUSY)
            }
            return listener
        }
        do {
            try loop.core.register(fd, listener, interest: .read)
        } catch {
            closeDescriptor(fd)
            throw error
        }
        return listener
    }

    func handle(_ event: PollerEvent) {
        guard !closed else { return }
        // Level-triggered: accept a batch and let the poller report the rest (fairness with
        // established connections). Edge-triggered: accept until EAGAIN.
        let limit = loop.core.isEdgeTriggered ? Int.max : 64
        var accepted = 0
        while accepted < limit && !closed && !heldForRoom {
            if let admission, !admission.reserve() {
                holdAccepting()
                break
            }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = epsilon_accept4(descriptor, &storage, &length)
            if fd >= 0 {
                accepted += 1
                acceptor(fd)
                continue
            }
            admission?.release()
            let code = epsilon_errno()
            if code == EINTR || code == ECONNABORTED { continue }
            if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                // Out of descriptors: stop watching for 100 ms instead of spinning on a
                // readiness we cannot serve.
                pauseAccepting(for: .milliseconds(100))
            }
            break
        }
    }

    private func pauseAccepting(for delay: Duration) {
        guard backoffTimer == nil else { return }
        try? loop.core.setInterest(descriptor, [])
        if loop.core.isEdgeTriggered {
            loop.core.deregister(descriptor)
        }
        backoffTimer = loop.scheduleTimer(after: delay) { [weak self] in
            guard let self, !self.closed else { return }
            self.backoffTimer = nil
            // Held for room meanwhile: ``resumeAccepting()`` watches the socket again.
            guard !self.heldForRoom else { return }
            if self.loop.core.isEdgeTriggered {
                try? self.loop.core.register(self.descriptor, self, interest: .read)
            } else {
                try? self.loop.core.setInterest(self.descriptor, .read)
            }
            self.handle(PollerEvent(token: 0, readable: true, writable: false, hangup: false, error: false))
        }
    }

    func loopWillStop() { close() }

    // MARK: Holding accepts while the consumer's queue is full

    /// Stops accepting until ``resumeAccepting()``: new connections wait in the kernel's backlog.
    /// (Completion model: the bounded listener's accepts are single-shot and it holds only
    /// when none is in flight, so there is nothing to cancel.)
    private func holdAccepting() {
        guard !heldForRoom, !closed else { return }
        heldForRoom = true
        if operationSlot < 0 && backoffTimer == nil {
            try? loop.core.setInterest(descriptor, [])
            if loop.core.isEdgeTriggered { loop.core.deregister(descriptor) }
        }
    }

    /// The consumer took connections: accept again (at once, whatever waits in the backlog).
    func resumeAccepting() {
        guard heldForRoom, !closed else { return }
        heldForRoom = false
        guard backoffTimer == nil else { return }  // its expiry watches the socket again
        if operationSlot >= 0 {
            if !acceptInFlight { submitAccept() }
            return
        }
        if loop.core.isEdgeTriggered {
            try? loop.core.register(descriptor, self, interest: .read)
        } else {
            try? loop.core.setInterest(descriptor, .read)
        }
        handle(PollerEvent(token: 0, readable: true, writable: false, hangup: false, error: false))
    }

    // MARK: Completion model

    /// Submits an accept unless one is in flight: multishot, or, with an ``admission`` bound,
    /// one accept at a time, each holding the place it reserved until it completes.
    private func submitAccept() {
        guard !closed, !acceptInFlight, !heldForRoom, let proactor = loop.core.proactor else { return }
        if let admission, !admission.reserve() {
            holdAccepting()
            return
        }
        do {
            try proactor.submitAccept(descriptor, multishot: admission == nil,
                                      tag: OperationTag(slot: operationSlot, kind: .accept))
        } catch {
            admission?.release()
            close()
            return
        }
        loop.core.operationSubmitted(operationSlot)
        acceptInFlight = true
    }

    func complete(_ completion: Completion) -> Bool {
        if !completion.more { acceptInFlight = false }
        // With an admission bound the accept was single-shot and held one place: the new
        // connection keeps it; anything else gives it back.
        if closed || completion.result < 0 { admission?.release() }
        guard !closed else {
            if completion.result >= 0 { closeDescriptor(completion.result) }
            return false
        }
        if completion.result >= 0 {
            acceptor(completion.result)
        } else {
            switch -completion.result {
            case EINTR, EAGAIN, ECONNABORTED, ECANCELED:
                break
            default:
                // Out of descriptors (or another refusal): wait 100 ms instead of spinning.
                resubmitAccept(after: .milliseconds(100))
                return false
            }
        }
        if !acceptInFlight && backoffTimer == nil && !heldForRoom { submitAccept() }
        return false
    }

    private func resubmitAccept(after delay: Duration) {
        guard backoffTimer == nil else { return }
        backoffTimer = loop.scheduleTimer(after: delay) { [weak self] in
            guard let self, !self.closed else { return }
            self.backoffTimer = nil
            self.submitAccept()
        }
    }

    /// Stops accepting and closes the socket (and removes a Unix socket's file). Loop thread only.
    public func close() {
        guard !closed else { return }
        closed = true
        if let backoffTimer { loop.cancelTimer(backoffTimer) }
        if operationSlot >= 0 {
            if acceptInFlight, let proactor = loop.core.proactor {
                proactor.cancel(OperationTag(slot: operationSlot, kind: .accept))
                proactor.submitNow()
            }
            loop.core.retireOperations(operationSlot)
        } else {
            loop.core.deregister(descriptor)
        }
        closeDescriptor(descriptor)
        if let unixPath { unlink(unixPath) }
    }

    /// True once closed.
    public var isClosed: Bool { closed }
}

extension IOLoop {
    /// Listens on `address`; each accepted connection is driven on this loop by a handler from
    /// `makeHandler`. Loop thread only.
    public func listen(on address: SocketEndpoint, options: ListenerOptions = ListenerOptions(),
                       makeHandler: @escaping () -> any ConnectionHandler) throws(TransportError) -> Listener {
        preconditionInLoop()
        let listener = try Listener.open(on: self, address: address, options: options)
        let connectionOptions = options.connection
        let family = address.family
        listener.acceptor = { [unowned self, unowned listener] fd in
            Connection.apply(connectionOptions, to: fd, family: family)
            _ = Connection.adopt(fd, on: self, options: connectionOptions, handler: makeHandler(),
                                 serverID: listener.serverID)
        }
        return listener
    }

    /// Connects to `address` without blocking; `completion` runs on this loop with the active
    /// connection or the error (``TransportError/connectTimeout`` after `timeout`). Loop thread only.
    public func connect(to address: SocketEndpoint, options: SocketOptions = SocketOptions(), timeout: Duration? = nil,
                        handler: any ConnectionHandler,
                        completion: @escaping (Result<Connection, TransportError>) -> Void = { _ in }) {
        preconditionInLoop()
        Connection.connect(on: self, to: address, options: options, timeout: timeout, handler: handler,
                           completion: completion)
    }

    /// Number of open connections on this loop. Loop thread only.
    public var connectionCount: Int {
        preconditionInLoop()
        return core.connectionCount
    }
}
