public import EpsilonWebSocket

/// The sending side of a WebSocket connection for an async handler. Every call hops to the
/// connection's loop; messages leave in call order from one task.
///
/// The connection's queue is bounded (``WebSocketRouteOptions/maxQueuedBytes``): a message
/// that does not fit waits (``WebSocketBackpressurePolicy/wait``, at most
/// ``maxWaitingMessages`` at a time; beyond, it is dropped), is dropped, or closes the
/// connection, as the route's policy says.
public struct WebSocketServerOutbound: Sendable {
    let executor: HTTPServerLoopExecutor
    let member: WebSocketGroupMember

    /// How many messages may wait for room at once under ``WebSocketBackpressurePolicy/wait``.
    public static let maxWaitingMessages = 64

    /// Sends a message (compressed when permessage-deflate was negotiated).
    @discardableResult
    public func send(_ message: WebSocketServerMessage) async -> WebSocketServerSendResult {
        let member = self.member
        return await withCheckedContinuation { (continuation: CheckedContinuation<WebSocketServerSendResult, Never>) in
            let queued = executor.execute { member.driver.sendFromTask(message, continuation: continuation) }
            if !queued { continuation.resume(returning: .closed) }
        }
    }

    /// Sends a text message.
    @discardableResult
    public func send(text: String) async -> WebSocketServerSendResult {
        await send(.text(text))
    }

    /// Sends a binary message.
    @discardableResult
    public func send(binary: [UInt8]) async -> WebSocketServerSendResult {
        await send(.binary(binary))
    }

    /// Sends a Ping (payload cut to 125 bytes).
    public func ping(_ payload: [UInt8] = []) {
        let member = self.member
        _ = executor.execute { member.driver.ping(payload) }
    }

    /// Starts the close handshake with `code` and `reason` (cut to 123 bytes).
    public func close(_ code: WebSocketCloseCode = .normalClosure, reason: String = "") {
        let member = self.member
        _ = executor.execute { member.driver.close(code, reason: reason) }
    }

    /// Joins `group` (see ``WebSocketBroadcastGroup``).
    public func join(_ group: WebSocketBroadcastGroup) {
        let member = self.member
        _ = executor.execute { member.driver.join(group) }
    }

    /// Leaves `group`.
    public func leave(_ group: WebSocketBroadcastGroup) {
        let member = self.member
        _ = executor.execute { member.driver.leave(group) }
    }
}

extension WebSocketServerDriver {
    /// An async writer's message, on the loop: sent, dropped, closed, or parked until the
    /// queue drains (``WebSocketAsyncDelegate/writable(_:)``).
    func sendFromTask(_ message: WebSocketServerMessage, continuation: CheckedContinuation<WebSocketServerSendResult, Never>) {
        guard let delegate = delegate as? WebSocketAsyncDelegate else {
            continuation.resume(returning: .closed)
            return
        }
        if delegate.waiting.isEmpty && (hasRoom(for: message.byteCount) || options.backpressure != .wait) {
            continuation.resume(returning: sendOwned(message, canWait: false))
        } else if delegate.waiting.count < WebSocketServerOutbound.maxWaitingMessages {
            delegate.waiting.append((message, continuation))
        } else {
            continuation.resume(returning: .dropped)
        }
    }

    /// Sends an owned message.
    func sendOwned(_ message: WebSocketServerMessage, canWait: Bool) -> WebSocketServerSendResult {
        switch message {
        case .text(var text):
            return text.withUTF8 { send(.text, UnsafeRawBufferPointer($0), canWait: canWait) }
        case .binary(let bytes):
            return bytes.withUnsafeBytes { send(.binary, $0, canWait: canWait) }
        }
    }
}

extension WebSocketServerMessage {
    /// The payload size.
    var byteCount: Int {
        switch self {
        case .text(let text): text.utf8.count
        case .binary(let bytes): bytes.count
        }
    }
}
