public import EpsilonWebSocket

/// A WebSocket handler of the inline tier: its callbacks run on the connection's loop
/// thread, with borrowed payloads, and may answer at once through the socket (no task hop,
/// no copy). One instance per connection, made by the route's factory after the `101`.
///
/// A callback must not block. Reading pauses while the socket's queue is above its high
/// watermark, so a handler that only answers input (an echo) is bounded by the peer.
///
/// ```swift
/// final class Echo: WebSocketInlineHandler {
///     func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, socket: WebSocketInlineSocket) {
///         socket.send(kind, payload)
///     }
/// }
/// try router.webSocket("/ws/echo", inline: { _ in Echo() })
/// ```
public protocol WebSocketInlineHandler: AnyObject {
    /// The connection is open (after the `101`).
    func opened(_ socket: WebSocketInlineSocket)
    /// A whole message arrived (fragments assembled, decompressed, text checked as UTF-8);
    /// `payload` is valid only during the call.
    func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, socket: WebSocketInlineSocket)
    /// The connection is over: the peer's close code (nil if it sent none), or 1006 when it
    /// went away without a Close (a heartbeat timeout, a reset).
    func closed(_ code: WebSocketCloseCode?, reason: String)
}

extension WebSocketInlineHandler {
    /// Does nothing.
    public func opened(_ socket: WebSocketInlineSocket) {}
    /// Does nothing.
    public func closed(_ code: WebSocketCloseCode?, reason: String) {}
}

/// The sending side of one WebSocket connection for the inline tier. Loop thread only:
/// use it inside the handler's callbacks (keep it no longer than the handler).
public struct WebSocketInlineSocket {
    unowned let driver: WebSocketServerDriver

    /// The handshake as accepted (path, subprotocol, fields).
    public var request: WebSocketUpgradeRequest { driver.request }

    /// Sends a message (compressed when permessage-deflate was negotiated). Answers to input
    /// are always queued under ``WebSocketBackpressurePolicy/wait`` (reading pauses instead);
    /// other sends follow the route's policy when the queue is full.
    @discardableResult
    public func send(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer) -> WebSocketServerSendResult {
        driver.send(kind, payload, canWait: driver.isHandlingInput)
    }

    /// Sends a text message.
    @discardableResult
    public func send(text: String) -> WebSocketServerSendResult {
        var text = text
        return text.withUTF8 { send(.text, UnsafeRawBufferPointer($0)) }
    }

    /// Sends a binary message.
    @discardableResult
    public func send(binary: [UInt8]) -> WebSocketServerSendResult {
        binary.withUnsafeBytes { send(.binary, $0) }
    }

    /// Sends a Ping (payload at most 125 bytes).
    public func ping(_ payload: [UInt8] = []) {
        driver.ping(payload)
    }

    /// Starts the close handshake with `code` and `reason` (at most 123 bytes of UTF-8).
    public func close(_ code: WebSocketCloseCode = .normalClosure, reason: String = "") {
        driver.close(code, reason: reason)
    }

    /// Joins `group`: its published messages reach this connection until it leaves or closes.
    public func join(_ group: WebSocketBroadcastGroup) {
        driver.join(group)
    }

    /// Leaves `group`.
    public func leave(_ group: WebSocketBroadcastGroup) {
        driver.leave(group)
    }

    /// Publishes a message to every member of `group` (this connection too, if a member);
    /// members on this loop get it before the call returns, the others soon after.
    public func publish(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, to group: WebSocketBroadcastGroup) {
        group.publish(WebSocketBroadcastFrame(kind: kind, payload: payload, group: group), from: driver.loopKey)
    }
}
