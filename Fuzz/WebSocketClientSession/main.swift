// Fuzzes the WebSocket client's handshake-and-frames path (EpsilonWebSocketClient's session:
// the response head, Sec-WebSocket-Accept and extension checks, then frames through the
// client-role machine and permessage-deflate). The input format and the checks are in
// Packages/EpsilonWebSocketClient/WebSocketClientSessionFuzzing.swift.
@_spi(EpsilonFuzz) import EpsilonWebSocketClient

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = WebSocketClientSessionFuzzing.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
