import EpsilonWebSocket

/// The opening handshake of a WebSocket connection as the route sees it: owned copies of
/// what the client asked for, and what was agreed.
public struct WebSocketUpgradeRequest: Sendable {
    /// The request path (without the query).
    public var path: String
    /// The query, without `?`, if any.
    public var query: String?
    /// The Host header.
    public var host: String
    /// The Origin header, if any.
    public var origin: String?
    /// The subprotocols the client offered, in its order of preference.
    public var subprotocols: [String]
    /// Every header field of the request, in order (names as sent).
    public var fields: [(name: String, value: String)]
    /// The route's path parameters (`:name` and `**`).
    public var parameters: [String: String]
    /// The subprotocol the route chose (nil before the decision and when none was chosen).
    public internal(set) var subprotocol: String?
    /// Whether permessage-deflate was negotiated.
    public internal(set) var isCompressed = false

    /// The first value of header field `name` (case-insensitive).
    public func field(_ name: String) -> String? {
        let lowered = name.lowercased()
        return fields.first { $0.name.lowercased() == lowered }?.value
    }
}

/// A route's answer to an opening handshake (see ``HTTPRouter/webSocket(_:options:accept:inline:)``).
public enum WebSocketUpgradeDecision: Sendable {
    /// Switch protocols, with `subprotocol` (one the client offered, or nil for none) and
    /// extra response fields.
    case accept(subprotocol: String?, fields: [(name: String, value: String)] = [])
    /// Refuse with `status` (4xx/5xx) and a short text body.
    case refuse(status: Int, reason: String)

    /// Accept without a subprotocol.
    public static var accept: WebSocketUpgradeDecision { .accept(subprotocol: nil) }

    /// Accept with the first of `supported` that the client offered; refuse with 400 when
    /// the client offered subprotocols and none is supported; accept without one when it
    /// offered none.
    public static func choosing(from supported: [String], for request: WebSocketUpgradeRequest) -> WebSocketUpgradeDecision {
        if request.subprotocols.isEmpty { return .accept(subprotocol: nil) }
        guard let chosen = request.subprotocols.first(where: supported.contains) else {
            return .refuse(status: 400, reason: "no supported subprotocol")
        }
        return .accept(subprotocol: chosen)
    }
}

/// Decides whether and how a handshake is accepted (origin checks, authentication,
/// subprotocol choice). Runs on the loop thread: keep it short.
public typealias WebSocketUpgradeHook = @Sendable (WebSocketUpgradeRequest) -> WebSocketUpgradeDecision

extension WebSocketCloseCode {
    /// 1013 Try Again Later (RFC 6455 registry): the server is overloaded.
    static let tryAgainLater = WebSocketCloseCode(1013)
}
