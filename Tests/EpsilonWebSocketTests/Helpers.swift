import EpsilonWebSocket
import Foundation

/// Builds one frame's bytes with the encoder under test's sibling (checked separately against RFC bytes).
func frame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, reserved: WebSocketReservedBits = [], mask: UInt32? = nil) -> [UInt8] {
    var out: [UInt8] = []
    payload.withUnsafeBytes {
        WebSocketFrameEncoder.writeFrame(WebSocketFrameHeader(fin: fin, reserved: reserved, opcode: opcode, maskingKey: mask, payloadLength: 0), payload: $0, into: &out)
    }
    return out
}

/// The masking key a sender of `role` uses in tests (nil for a server).
func key(for sender: WebSocketRole) -> UInt32? { sender == .client ? 0x37FA_213D : nil }

/// The other role.
func peer(of role: WebSocketRole) -> WebSocketRole { role == .client ? .server : .client }

/// Feeds `bytes` to a fresh or given connection in chunks of `chunk` bytes and collects what it reports.
func receive(_ bytes: [UInt8], into connection: inout WebSocketConnection, chunk: Int = Int.max) -> (items: [WebSocketMessageCollector.Item], error: WebSocketError?) {
    var collector = WebSocketMessageCollector()
    var failure: WebSocketError?
    bytes.withUnsafeBytes { all in
        var start = 0
        while start < all.count {
            let end = all.count - start > chunk ? start + chunk : all.count
            do throws(WebSocketError) {
                let consumed = try connection.receive(UnsafeRawBufferPointer(rebasing: all[start..<end]), now: 0, handler: &collector)
                precondition(consumed == end - start, "receive left bytes unconsumed")
            } catch {
                failure = error
                return
            }
            start = end
        }
    }
    return (collector.items, failure)
}

/// Receives `bytes` as the end playing `role` with a default configuration.
func receive(_ bytes: [UInt8], as role: WebSocketRole, configuration: WebSocketConnection.Configuration = WebSocketConnection.Configuration(), chunk: Int = Int.max) -> (items: [WebSocketMessageCollector.Item], error: WebSocketError?) {
    var connection = WebSocketConnection(role: role, configuration: configuration)
    return receive(bytes, into: &connection, chunk: chunk)
}

/// Decodes frames with a WebSocketFrameDecoder and returns (header, payload) pairs or the error.
func decodeFrames(_ bytes: [UInt8], as role: WebSocketRole, configuration: WebSocketFrameDecoder.Configuration = WebSocketFrameDecoder.Configuration(), chunk: Int = Int.max) -> (frames: [(WebSocketFrameHeader, [UInt8])], error: WebSocketError?) {
    var decoder = WebSocketFrameDecoder(role: role, configuration: configuration)
    var frames: [(WebSocketFrameHeader, [UInt8])] = []
    var current: (WebSocketFrameHeader, [UInt8])?
    var failure: WebSocketError?
    bytes.withUnsafeBytes { all in
        var start = 0
        while start < all.count {
            let end = all.count - start > chunk ? start + chunk : all.count
            do throws(WebSocketError) {
                try decoder.decode(UnsafeRawBufferPointer(rebasing: all[start..<end])) { event in
                    switch event {
                    case .header(let header, _, _): current = (header, [])
                    case .payload(let bytes): current?.1 += bytes
                    case .end: frames.append(current!)
                    }
                }
            } catch {
                failure = error
                return
            }
            start = end
        }
    }
    return (frames, failure)
}

/// Everything `connection` has to send, taken out of it.
func output(of connection: inout WebSocketConnection) -> [UInt8] {
    var out: [UInt8] = []
    connection.writeOutput(into: &out)
    return out
}

/// Parses compact hex.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}
