import EpsilonWebSocketClient
import Testing

// Replaced by the WebSocket client's tests (issue 18).
