import EpsilonHTTPServer
import EpsilonWebSocket
import Foundation

/// The WebSocket endpoints of `epsilon serve`:
/// - `/ws/echo` sends every message back as it came (inline tier, no task hop);
/// - `/ws/chat` publishes every text or binary message to every connection of `/ws/chat`
///   (one broadcast group), the sender included. A member that stops reading is closed with
///   1013 once its queue is full; the others keep receiving.
///
/// Heartbeat and queue settings come from the environment (seconds / bytes), for tests:
/// `EPSILON_WS_PING_INTERVAL` (default 30), `EPSILON_WS_PONG_TIMEOUT` (default 10),
/// `EPSILON_WS_MAX_QUEUED` (default 1 MiB).
enum ServeWebSocketRoutes {
    static func add(to router: inout HTTPRouter) {
        let options = Self.options()
        var chat = options
        chat.backpressure = .close(WebSocketCloseCode(1013))
        let room = WebSocketBroadcastGroup(name: "chat")
        do throws(HTTPRoutePatternError) {
            try router.webSocket("/ws/echo", options: options, inline: { _ in ServeWebSocketEcho() })
            try router.webSocket("/ws/chat", options: chat, inline: { _ in ServeWebSocketChat(room: room) })
        } catch {
            preconditionFailure("WebSocket routes rejected: \(error)")
        }
    }

    static func options() -> WebSocketRouteOptions {
        var options = WebSocketRouteOptions()
        let environment = ProcessInfo.processInfo.environment
        if let value = environment["EPSILON_WS_PING_INTERVAL"].flatMap(Double.init), value > 0 {
            options.pingInterval = .milliseconds(Int(value * 1000))
        }
        if let value = environment["EPSILON_WS_PONG_TIMEOUT"].flatMap(Double.init), value > 0 {
            options.pongTimeout = .milliseconds(Int(value * 1000))
        }
        if let value = environment["EPSILON_WS_MAX_QUEUED"].flatMap(Int.init), value > 0 {
            options.maxQueuedBytes = value
        }
        return options
    }
}

/// Sends every message back.
final class ServeWebSocketEcho: WebSocketInlineHandler {
    func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, socket: WebSocketInlineSocket) {
        socket.send(kind, payload)
    }
}

/// Publishes every message to the chat room.
final class ServeWebSocketChat: WebSocketInlineHandler {
    let room: WebSocketBroadcastGroup

    init(room: WebSocketBroadcastGroup) {
        self.room = room
    }

    func opened(_ socket: WebSocketInlineSocket) {
        socket.join(room)
    }

    func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, socket: WebSocketInlineSocket) {
        socket.publish(kind, payload, to: room)
    }
}
