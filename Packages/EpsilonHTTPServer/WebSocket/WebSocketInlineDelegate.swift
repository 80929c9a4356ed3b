import EpsilonWebSocket

/// Connects a driver to an inline-tier handler.
final class WebSocketInlineDelegate: WebSocketDriverDelegate {
    let handler: any WebSocketInlineHandler

    init(_ handler: any WebSocketInlineHandler) {
        self.handler = handler
    }

    func opened(_ driver: WebSocketServerDriver) {
        handler.opened(WebSocketInlineSocket(driver: driver))
    }

    func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, driver: WebSocketServerDriver) {
        handler.received(kind, payload, socket: WebSocketInlineSocket(driver: driver))
    }

    func closed(_ code: WebSocketCloseCode?, reason: String) {
        handler.closed(code, reason: reason)
    }

    func writable(_ driver: WebSocketServerDriver) {}
}
