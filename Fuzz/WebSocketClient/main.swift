// Fuzzes a client-role WebSocketConnection with arbitrary bytes (the server's frames, which must not be masked).
// The input format and the checks are in Support/WebSocket/WebSocketConnectionFuzzing.swift.
import EpsilonWebSocket
import FuzzWebSocketSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzWebSocketConnection(role: .client, data, size)
}
