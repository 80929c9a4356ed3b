import EpsilonWebSocket

/// Connects a driver to an async-tier handler: a task runs the handler with the inbound
/// sequence and the outbound writer; when it returns the connection closes (1000, or 1011
/// when it threw); when the connection closes the sequence ends and the task is cancelled.
final class WebSocketAsyncDelegate: WebSocketDriverDelegate {
    typealias Handler = @Sendable (WebSocketServerInbound, WebSocketServerOutbound, WebSocketUpgradeRequest) async throws -> Void

    let handler: Handler
    var inbound: WebSocketInboundBuffer?
    var task: Task<Void, Never>?
    /// Messages an async writer waits to send (``WebSocketBackpressurePolicy/wait``), in order.
    var waiting: [(WebSocketServerMessage, CheckedContinuation<WebSocketServerSendResult, Never>)] = []

    init(_ handler: @escaping Handler) {
        self.handler = handler
    }

    func opened(_ driver: WebSocketServerDriver) {
        let executor = driver.io.executor
        let member = WebSocketGroupMember(driver: driver)
        let buffer = WebSocketInboundBuffer(limit: driver.options.inboundBufferCount) {
            _ = executor.execute { member.driver.resumeInbound() }
        }
        inbound = buffer
        let outbound = WebSocketServerOutbound(executor: executor, member: member)
        let handler = self.handler
        let request = driver.request
        task = Task {
            let code: WebSocketCloseCode
            do {
                try await handler(WebSocketServerInbound(buffer: buffer), outbound, request)
                code = .normalClosure
            } catch {
                code = .internalError
            }
            _ = executor.execute { member.driver.close(code, reason: "") }
        }
    }

    func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, driver: WebSocketServerDriver) {
        let message: WebSocketServerMessage = kind == .text ? .text(String(decoding: payload, as: UTF8.self)) : .binary(Array(payload))
        if inbound?.push(message) == true { driver.pauseInbound() }
    }

    func closed(_ code: WebSocketCloseCode?, reason: String) {
        inbound?.finish()
        task?.cancel()
        task = nil
        let waiting = self.waiting
        self.waiting = []
        for (_, continuation) in waiting { continuation.resume(returning: .closed) }
    }

    func writable(_ driver: WebSocketServerDriver) {
        while let (message, continuation) = waiting.first, driver.hasRoom(for: message.byteCount) {
            waiting.removeFirst()
            continuation.resume(returning: driver.sendOwned(message, canWait: true))
        }
    }
}
