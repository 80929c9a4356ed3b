import Synchronization

/// The messages a WebSocket connection receives, for an async handler: whole messages
/// (fragments assembled, decompressed) in order, ending when the connection closes.
///
/// At most ``WebSocketRouteOptions/inboundBufferCount`` messages wait here: beyond that the
/// connection stops reading until the handler takes some, so a slow handler slows its peer
/// instead of growing memory. One consumer at a time.
public struct WebSocketServerInbound: AsyncSequence, Sendable {
    /// The element type.
    public typealias Element = WebSocketServerMessage
    /// Never fails: the sequence ends when the connection does.
    public typealias Failure = Never

    let buffer: WebSocketInboundBuffer

    /// An iterator over the messages.
    public func makeAsyncIterator() -> Iterator {
        Iterator(buffer: buffer)
    }

    /// Takes messages one by one.
    public struct Iterator: AsyncIteratorProtocol {
        let buffer: WebSocketInboundBuffer

        /// The next message, or nil once the connection closed and every message was taken
        /// (also nil when the task is cancelled).
        public mutating func next() async -> WebSocketServerMessage? {
            await buffer.next()
        }
    }
}

/// The bounded queue between a connection's loop (producer) and its handler task.
final class WebSocketInboundBuffer: Sendable {
    struct State {
        var messages: [WebSocketServerMessage] = []
        var head = 0
        var waiter: CheckedContinuation<WebSocketServerMessage?, Never>?
        var finished = false
        var paused = false
    }

    let state = Mutex(State())
    let limit: Int
    /// Resumes reading on the connection's loop (set by the driver's delegate).
    let resume: @Sendable () -> Void

    init(limit: Int, resume: @escaping @Sendable () -> Void) {
        self.limit = max(limit, 1)
        self.resume = resume
    }

    /// Loop side: adds a message; returns true when reading should pause.
    func push(_ message: WebSocketServerMessage) -> Bool {
        let (waiter, pause) = state.withLock { state -> (CheckedContinuation<WebSocketServerMessage?, Never>?, Bool) in
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, false)
            }
            state.messages.append(message)
            if state.messages.count - state.head >= limit && !state.paused {
                state.paused = true
                return (nil, true)
            }
            return (nil, false)
        }
        waiter?.resume(returning: message)
        return pause
    }

    /// Loop side: no more messages will come.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Task side: the next message (waits for one).
    func next() async -> WebSocketServerMessage? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<WebSocketServerMessage?, Never>) in
                let (ready, wakeLoop) = state.withLock { state -> (WebSocketServerMessage??, Bool) in
                    if state.head < state.messages.count {
                        let message = state.messages[state.head]
                        state.head += 1
                        if state.head == state.messages.count {
                            state.messages.removeAll(keepingCapacity: true)
                            state.head = 0
                        }
                        var wake = false
                        if state.paused && state.messages.count - state.head <= limit / 2 {
                            state.paused = false
                            wake = true
                        }
                        return (.some(message), wake)
                    }
                    if state.finished || Task.isCancelled { return (.some(nil), false) }
                    state.waiter = continuation
                    return (nil, false)
                }
                if wakeLoop { resume() }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
