// Fuzzes a server-role WebSocketConnection with arbitrary bytes (the client's frames, which must be masked).
// The input format and the checks are in Support/WebSocket/WebSocketConnectionFuzzing.swift.
import EpsilonWebSocket
import FuzzWebSocketSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzWebSocketConnection(role: .server, data, size)
}
