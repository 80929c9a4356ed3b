#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims
import EpsilonTLS

// Opening a connection (accepting, connecting, becoming active, its timers) and its socket
// options; the rest of `Connection` is in Connection.swift, the completion model in
// Connection+Completion.swift, TLS in TLSStream.swift.
extension Connection {
    // MARK: Opening

    /// Applies stream socket options to `fd`.
    static func apply(_ options: SocketOptions, to fd: Int32, family: Int32) {
        if family != AF_UNIX && options.noDelay {
            _ = epsilon_set_int_option(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        }
        if let idle = options.keepAlive {
            _ = epsilon_set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1)
            let keepIdle = epsilon_tcp_keepidle()
            if family != AF_UNIX && keepIdle >= 0 {
                let seconds = Int32(clamping: max(1, idle.components.seconds))
                _ = epsilon_set_int_option(fd, Int32(IPPROTO_TCP), keepIdle, seconds)
            }
        }
        if let size = options.receiveBufferSize {
            _ = epsilon_set_int_option(fd, SOL_SOCKET, SO_RCVBUF, Int32(clamping: size))
        }
        if let size = options.sendBufferSize {
            _ = epsilon_set_int_option(fd, SOL_SOCKET, SO_SNDBUF, Int32(clamping: size))
        }
    }

    /// Registers an accepted descriptor and activates its handler.
    static func adopt(_ fd: Int32, on loop: IOLoop, options: SocketOptions, handler: any ConnectionHandler,
                      serverID: UInt64?) -> Connection? {
        var engine: TLSEngine?
        var engineError: TLSError?
        do { engine = try options.tls?.makeEngine() } catch { engineError = error }
        let connection = Connection(loop: loop, descriptor: fd, connecting: false, options: options, tls: engine,
                                    handler: handler)
        connection.serverID = serverID
        if let engineError {
            // Only an exhausted OpenSSL gets here (the context was checked when it was made).
            connection.close(error: .tls(engineError))
            return nil
        }
        if loop.core.proactor != nil {
            connection.operationSlot = loop.core.openOperations(for: connection)
        } else {
            do {
                try loop.core.register(fd, connection, interest: .read)
            } catch {
                connection.close(error: error)
                return nil
            }
        }
        connection.localAddress = SocketEndpoint.local(of: fd)
        connection.remoteAddress = SocketEndpoint.remote(of: fd)
        if let serverID {
            loop.core.serverConnections[serverID, default: [:]][ObjectIdentifier(connection)] = connection
        }
        connection.becameActive()
        return connection
    }

    /// Starts a non-blocking connect; `completion` runs on the loop exactly once. Returns the
    /// connection while it is connecting (nil when it failed or completed at once).
    @discardableResult
    static func connect(on loop: IOLoop, to address: SocketEndpoint, options: SocketOptions, timeout: Duration?,
                        handler: any ConnectionHandler,
                        completion: @escaping (Result<Connection, TransportError>) -> Void) -> Connection? {
        let engine: TLSEngine?
        do {
            engine = try options.tls?.makeEngine()
        } catch {
            completion(.failure(.tls(error)))
            return nil
        }
        let fd = epsilon_socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else {
            completion(.failure(.fromErrno("socket")))
            return nil
        }
        apply(options, to: fd, family: address.family)
        if loop.core.proactor != nil {
            let connection = Connection(loop: loop, descriptor: fd, connecting: true, options: options, tls: engine,
                                        handler: handler)
            connection.connectCompletion = completion
            connection.operationSlot = loop.core.openOperations(for: connection)
            connection.submitConnect(to: address, timeout: timeout)
            return connection.state == .connecting ? connection : nil
        }
        let result = address.withStorage { storage, length in epsilon_connect(fd, storage, length) }
        let code = result == 0 ? 0 : epsilon_errno()
        if result != 0 && code != EINPROGRESS {
            closeDescriptor(fd)
            completion(.failure(code == ECONNRESET ? .connectionReset : .system(call: "connect", errno: code)))
            return nil
        }
        let connection = Connection(loop: loop, descriptor: fd, connecting: result != 0, options: options, tls: engine,
                                    handler: handler)
        connection.connectCompletion = completion
        do {
            try loop.core.register(fd, connection, interest: result == 0 ? .read : .write)
        } catch {
            connection.close(error: error)
            return nil
        }
        if result == 0 {
            connection.finishConnect()
            return nil
        }
        if let timeout {
            connection.armConnectTimer(after: timeout)
        }
        return connection
    }

    func armConnectTimer(after timeout: Duration) {
        connectTimer = loop.scheduleTimer(after: timeout) { [weak self] in
            self?.connectTimer = nil
            self?.close(error: .connectTimeout)
        }
    }

    func finishConnect() {
        var code: Int32 = 0
        if epsilon_get_int_option(descriptor, SOL_SOCKET, SO_ERROR, &code) != 0 { code = epsilon_errno() }
        if code != 0 {
            close(error: code == ECONNRESET ? .connectionReset : .system(call: "connect", errno: code))
            return
        }
        if let timer = connectTimer {
            loop.cancelTimer(timer)
            connectTimer = nil
        }
        state = .active
        localAddress = SocketEndpoint.local(of: descriptor)
        remoteAddress = SocketEndpoint.remote(of: descriptor)
        updateInterest()
        let completion = connectCompletion
        connectCompletion = nil
        completion?(.success(self))
        if state == .active { becameActive() }
    }

    func becameActive() {
        if let idleNanoseconds {
            lastActivity = monotonicNanoseconds()
            armIdleTimer(after: idleNanoseconds)
        }
        tls?.startDeadline(on: self)
        handler.connectionDidBecomeActive(self)
        // A TLS client queues its ClientHello here; a server engine just waits for one.
        if let tls, state == .active { tls.process(on: self) }
        if state == .active && !queue.isEmpty { flush() }
        if usesCompletions { startReceiving() }
    }

    func armIdleTimer(after delay: UInt64) {
        idleTimer = loop.scheduleTimer(after: .nanoseconds(Int64(min(delay, UInt64(Int64.max))))) { [weak self] in
            self?.idleTimerFired()
        }
    }

    private func idleTimerFired() {
        idleTimer = nil
        guard state != .closed, let idleNanoseconds else { return }
        let now = monotonicNanoseconds()
        let deadline = lastActivity &+ idleNanoseconds
        if now >= deadline {
            close(error: .idleTimeout)
        } else {
            armIdleTimer(after: deadline - now)
        }
    }

    // MARK: Options

    /// Sets `TCP_NODELAY` (TCP only).
    public func setNoDelay(_ enabled: Bool) {
        _ = epsilon_set_int_option(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, enabled ? 1 : 0)
    }

    /// Turns `SO_KEEPALIVE` on with `idle` before the first probe, or off with nil.
    public func setKeepAlive(_ idle: Duration?) {
        if let idle {
            var options = SocketOptions()
            options.noDelay = false
            options.keepAlive = idle
            Connection.apply(options, to: descriptor, family: remoteAddress?.family ?? AF_INET)
        } else {
            _ = epsilon_set_int_option(descriptor, SOL_SOCKET, SO_KEEPALIVE, 0)
        }
    }
}
