public import EpsilonTransport
public import EpsilonWebSocket
import Synchronization

/// A long-lived WebSocket client: reconnects with backoff when the connection is lost, queues
/// what is sent while disconnected, and stops only when asked (or when its attempt limit runs out).
///
/// ```swift
/// let socket = ReconnectingWebSocket(url: "wss://example.com/feed",
///                                    backoff: WebSocketClientBackoff(base: .milliseconds(200), cap: .seconds(10)),
///                                    queue: WebSocketClientQueuePolicy(capacity: 100, overflow: .dropOldest))
/// socket.start()
/// Task { for await state in socket.states { print(state) } }
/// try await socket.send(.text("subscribe"))
/// for await message in socket.messages { … }
/// await socket.close()
/// ```
///
/// - Messages sent while connected go straight out; while disconnected they wait in the queue
///   (``WebSocketClientQueuePolicy``) and go out, in order, before anything newer once connected.
/// - A connection that ends in any way but ``close(code:reason:)`` — the server's Close, a
///   reset, a protocol error, a dead heartbeat — is followed by a new attempt after the
///   backoff's delay (``WebSocketClientBackoff``).
/// - Received messages are in ``messages`` (at most `inboundCapacity` buffered; past it the
///   newest are dropped and counted in ``droppedInboundCount``).
public final class ReconnectingWebSocket: Sendable {
    /// What happened to a message given to ``send(_:expiry:)``.
    public enum SendResult: Sendable, Hashable {
        /// Written to the open connection.
        case sent
        /// Queued until a connection is open.
        case queued
        /// Dropped by the queue policy (``WebSocketClientQueuePolicy/Overflow/dropNewest``).
        case dropped
    }

    enum EnqueueOutcome {
        case done(SendResult)
        case failed(WebSocketClientError)
    }

    struct Queued {
        var message: WebSocketClientMessage
        var expires: ContinuousClock.Instant?
    }

    struct State {
        var queue: [Queued] = []
        var queueHead = 0
        var live: WebSocketClientConnection?
        var stopping = false
        var stopped = false
        var runner: Task<Void, Never>?
        var droppedQueued = 0
        var droppedInbound = 0
        var expired = 0
        var lastError: WebSocketClientError?

        var queueCount: Int { queue.count - queueHead }
        mutating func popFirst() -> Queued? {
            guard queueHead < queue.count else { return nil }
            let first = queue[queueHead]
            queueHead += 1
            if queueHead > 64 && queueHead * 2 > queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            return first
        }
        mutating func pushFront(_ item: Queued) {
            if queueHead > 0 {
                queueHead -= 1
                queue[queueHead] = item
            } else {
                queue.insert(item, at: 0)
            }
        }
    }

    /// The URL connected to.
    public let url: String
    /// The per-connection configuration.
    public let configuration: WebSocketClientConfiguration
    /// The reconnect policy.
    public let backoff: WebSocketClientBackoff
    /// The queue policy.
    public let queuePolicy: WebSocketClientQueuePolicy
    /// Received messages, from every connection in turn. Ends after ``close(code:reason:)`` or
    /// the final stop.
    public let messages: AsyncStream<WebSocketClientMessage>
    /// State changes (the newest 256 are kept for a slow reader). Ends with ``WebSocketClientState/stopped(_:)``.
    public let states: AsyncStream<WebSocketClientState>
    let messageInput: AsyncStream<WebSocketClientMessage>.Continuation
    let stateInput: AsyncStream<WebSocketClientState>.Continuation
    let group: IOLoopGroup?
    let state = Mutex(State())

    /// Creates the client; nothing happens until ``start()``.
    ///
    /// - Parameters:
    ///   - url: `ws://…` or `wss://…`.
    ///   - configuration: per connection: fields, subprotocols, compression, TLS, heartbeat.
    ///   - backoff: when to try again.
    ///   - queue: what to do with messages sent while disconnected.
    ///   - inboundCapacity: received messages buffered for ``messages``. Default 4096.
    ///   - group: the loops to run on (default: a shared one-loop group).
    public init(url: String, configuration: WebSocketClientConfiguration = WebSocketClientConfiguration(),
                backoff: WebSocketClientBackoff = WebSocketClientBackoff(), queue: WebSocketClientQueuePolicy = WebSocketClientQueuePolicy(),
                inboundCapacity: Int = 4096, group: IOLoopGroup? = nil) {
        self.url = url
        self.configuration = configuration
        self.backoff = backoff
        self.queuePolicy = queue
        self.group = group
        (messages, messageInput) = AsyncStream.makeStream(of: WebSocketClientMessage.self, bufferingPolicy: .bufferingOldest(max(1, inboundCapacity)))
        (states, stateInput) = AsyncStream.makeStream(of: WebSocketClientState.self, bufferingPolicy: .bufferingNewest(256))
    }

    deinit {
        state.withLock { $0.runner }?.cancel()
        messageInput.finish()
        stateInput.finish()
    }

    /// Why the latest attempt or connection failed, if it did.
    public var lastError: WebSocketClientError? { state.withLock { $0.lastError } }
    /// Whether a connection is open (and the queue was sent on it).
    public var isConnected: Bool { state.withLock { $0.live != nil } }
    /// Messages waiting for a connection.
    public var queuedCount: Int { state.withLock { $0.queueCount } }
    /// Messages the queue policy dropped (oldest or newest) so far.
    public var droppedQueuedCount: Int { state.withLock { $0.droppedQueued } }
    /// Queued messages dropped because they expired before a connection opened.
    public var expiredCount: Int { state.withLock { $0.expired } }
    /// Received messages dropped because ``messages`` was full.
    public var droppedInboundCount: Int { state.withLock { $0.droppedInbound } }

    /// Starts connecting (once; later calls do nothing).
    public func start() {
        state.withLock { state in
            guard state.runner == nil, !state.stopped else { return }
            state.runner = Task { [self] in await run() }
        }
    }

    /// Sends `message` now if connected, else queues it.
    ///
    /// - Parameter expiry: how long the message stays worth sending while queued (default:
    ///   the queue policy's).
    /// - Returns: whether it was sent, queued or dropped by the policy.
    /// - Throws: ``WebSocketClientError/queueFull`` under the `fail` policy,
    ///   ``WebSocketClientError/closed`` after ``close(code:reason:)`` or the final stop.
    @discardableResult
    public func send(_ message: WebSocketClientMessage, expiry: Duration? = nil) async throws(WebSocketClientError) -> SendResult {
        let lifetime = expiry ?? queuePolicy.expiry
        let item = Queued(message: message, expires: lifetime.map { ContinuousClock.now + $0 })
        enum Route { case direct(WebSocketClientConnection), done(SendResult), failed(WebSocketClientError) }
        let route = state.withLock { state -> Route in
            if state.stopping || state.stopped { return .failed(.closed) }
            if let live = state.live, state.queueCount == 0 { return .direct(live) }
            switch Self.enqueue(item, into: &state, policy: queuePolicy) {
            case .done(let result): return .done(result)
            case .failed(let error): return .failed(error)
            }
        }
        switch route {
        case .failed(let error): throw error
        case .done(let result): return result
        case .direct(let connection):
            do throws(WebSocketClientError) {
                try await connection.send(message)
                return .sent
            } catch {
                if case .usage = error { throw error }
                // The connection broke under us: the message waits for the next one.
                return state.withLock { state -> SendResult in
                    if state.live === connection { state.live = nil }
                    if case .done(let result) = Self.enqueue(item, into: &state, policy: queuePolicy) { return result }
                    return .dropped
                }
            }
        }
    }

    private static func enqueue(_ item: Queued, into state: inout State, policy: WebSocketClientQueuePolicy) -> EnqueueOutcome {
        if state.queueCount >= policy.capacity {
            switch policy.overflow {
            case .fail:
                return .failed(.queueFull)
            case .dropNewest:
                state.droppedQueued += 1
                return .done(.dropped)
            case .dropOldest:
                if state.popFirst() == nil {
                    state.droppedQueued += 1
                    return .done(.dropped)
                }
                state.droppedQueued += 1
            }
        }
        state.queue.append(item)
        return .done(.queued)
    }

    /// Closes for good: no reconnect after it. Sends a Close on the open connection and waits
    /// for the close handshake (bounded by the close timeout), or stops waiting/connecting.
    public func close(code: WebSocketCloseCode = .normalClosure, reason: String = "") async {
        let (live, runner) = state.withLock { state -> (WebSocketClientConnection?, Task<Void, Never>?) in
            state.stopping = true
            return (state.live, state.runner)
        }
        if let live {
            do throws(WebSocketClientError) {
                try await live.close(code: code, reason: reason)
            } catch {
                runner?.cancel()
            }
        } else {
            runner?.cancel()
        }
        await runner?.value
        finish(nil)
    }

    func finish(_ error: WebSocketClientError?) {
        let first = state.withLock { state -> Bool in
            defer { state.stopped = true; state.live = nil }
            return !state.stopped
        }
        guard first else { return }
        stateInput.yield(.stopped(error))
        stateInput.finish()
        messageInput.finish()
    }

    var isStopping: Bool { state.withLock { $0.stopping } }

    // MARK: The connection loop

    func run() async {
        var attempt = 0
        var generator = SystemRandomNumberGenerator()
        while !isStopping && !Task.isCancelled {
            stateInput.yield(.connecting(attempt: attempt + 1))
            let connection: WebSocketClientConnection
            do throws(WebSocketClientError) {
                connection = try await WebSocketClient.open(url, configuration: configuration, group: group)
            } catch {
                state.withLock { $0.lastError = error }
                if Self.isPermanent(error) || isStopping || Task.isCancelled {
                    finish(isStopping ? nil : error)
                    return
                }
                attempt += 1
                if let limit = backoff.maxAttempts, attempt > limit {
                    finish(error)
                    return
                }
                guard await wait(attempt: attempt - 1, generator: &generator) else { break }
                continue
            }
            let opened = ContinuousClock.now
            guard await flushQueue(on: connection) else {
                await connection.abort()
                stateInput.yield(.closed(code: nil))
                continue
            }
            stateInput.yield(.open)
            var code: WebSocketCloseCode?
            do throws(WebSocketClientError) {
                while let message = try await connection.receive() {
                    if case .dropped = messageInput.yield(message) {
                        state.withLock { $0.droppedInbound += 1 }
                    }
                }
                code = connection.serverClose?.code
            } catch {
                state.withLock { $0.lastError = error }
                code = connection.serverClose?.code
            }
            state.withLock { state in if state.live === connection { state.live = nil } }
            stateInput.yield(.closed(code: code))
            if isStopping || Task.isCancelled { break }
            if ContinuousClock.now - opened >= backoff.stablePeriod { attempt = 0 }
            attempt += 1
            if let limit = backoff.maxAttempts, attempt > limit {
                finish(.connectionLost(nil))
                return
            }
            guard await wait(attempt: attempt - 1, generator: &generator) else { break }
        }
        finish(nil)
    }

    /// Sleeps the backoff's delay; false when stopped meanwhile.
    func wait(attempt: Int, generator: inout SystemRandomNumberGenerator) async -> Bool {
        let delay = backoff.delay(forAttempt: attempt, using: &generator)
        stateInput.yield(.waiting(until: .now + delay))
        do {
            try await Task.sleep(for: delay)
        } catch {
            return false
        }
        return !isStopping
    }

    /// Sends the queue in order, then makes `connection` the live one (in the same step as
    /// finding the queue empty, so no newer message can overtake a queued one).
    func flushQueue(on connection: WebSocketClientConnection) async -> Bool {
        while true {
            let next = state.withLock { state -> Queued? in
                let now = ContinuousClock.now
                while let first = state.popFirst() {
                    if let expires = first.expires, expires < now {
                        state.expired += 1
                        continue
                    }
                    return first
                }
                state.live = connection
                return nil
            }
            guard let next else { return true }
            do throws(WebSocketClientError) {
                try await connection.send(next.message)
            } catch {
                if case .usage = error { continue }
                state.withLock { $0.pushFront(next) }
                return false
            }
        }
    }

    /// Errors that trying again cannot cure.
    static func isPermanent(_ error: WebSocketClientError) -> Bool {
        switch error {
        case .invalidURL, .invalidHeader, .tls, .usage, .cancelled: return true
        default: return false
        }
    }
}
