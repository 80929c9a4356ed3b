@testable import EpsilonHTTPServer
import EpsilonWebSocket
import Synchronization

/// A client's side of the WebSocket conversation with a ``MemoryServer``: the handshake
/// request, masked frames, and the server's frames parsed back.
enum WebSocketTestClient {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    /// RFC 6455 §1.3's accept value for ``key``.
    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    static func request(_ path: String = "/ws", extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n"
    }

    /// A masked client frame.
    static func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            out.append(0x80 | UInt8(payload.count))
        } else {
            out.append(0x80 | 126)
            out += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        let mask: [UInt8] = [1, 2, 3, 4]
        out += mask
        for (index, byte) in payload.enumerated() { out.append(byte ^ mask[index % 4]) }
        return out
    }

    static func text(_ text: String) -> [UInt8] { frame(1, Array(text.utf8)) }

    /// The server's frames in `bytes` (unmasked): (opcode, rsv1, payload).
    static func frames(_ bytes: [UInt8]) -> [(opcode: UInt8, rsv1: Bool, payload: [UInt8])] {
        var result: [(opcode: UInt8, rsv1: Bool, payload: [UInt8])] = []
        var index = 0
        while index + 2 <= bytes.count {
            var length = Int(bytes[index + 1] & 0x7F)
            var offset = index + 2
            if length == 126 {
                guard offset + 2 <= bytes.count else { break }
                length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
                offset += 2
            } else if length == 127 {
                guard offset + 8 <= bytes.count else { break }
                length = bytes[offset..<offset + 8].reduce(0) { $0 << 8 | Int($1) }
                offset += 8
            }
            guard offset + length <= bytes.count else { break }
            result.append((bytes[index] & 0x0F, bytes[index] & 0x40 != 0, Array(bytes[offset..<offset + length])))
            index = offset + length
        }
        return result
    }

    /// The bytes after the `101` head in `output`, or nil without one.
    static func afterSwitch(_ output: [UInt8]) -> [UInt8]? {
        let text = String(decoding: output, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 101 "), let end = text.range(of: "\r\n\r\n") else { return nil }
        return Array(output[text.utf8.distance(from: text.startIndex, to: end.upperBound)...])
    }

    /// The close code of the last Close frame in `frames`.
    static func closeCode(_ frames: [(opcode: UInt8, rsv1: Bool, payload: [UInt8])]) -> Int? {
        guard let close = frames.last(where: { $0.opcode == 8 }), close.payload.count >= 2 else { return nil }
        return Int(close.payload[0]) << 8 | Int(close.payload[1])
    }
}

/// Sends every message back and records how the connection ended.
final class TestEchoHandler: WebSocketInlineHandler {
    let log: TestWebSocketLog

    init(log: TestWebSocketLog) { self.log = log }

    func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, socket: WebSocketInlineSocket) {
        socket.send(kind, payload)
    }

    func closed(_ code: WebSocketCloseCode?, reason: String) {
        log.closes.withLock { $0.append(code?.rawValue) }
    }
}

/// What inline handlers saw (shared with the test).
final class TestWebSocketLog: Sendable {
    let closes = Mutex<[UInt16?]>([])
    let sockets = Mutex<[TestSocketBox]>([])
}

/// Keeps a socket for the test to send through outside the input path (loop thread: the
/// test's own, with the in-memory I/O).
struct TestSocketBox: @unchecked Sendable {
    // Unchecked: used only on the test's thread, which is the memory I/O's "loop".
    let socket: WebSocketInlineSocket
    let handler: AnyObject
}

/// Keeps its socket in the log, answers nothing.
final class TestHoldingHandler: WebSocketInlineHandler {
    let log: TestWebSocketLog
    let group: WebSocketBroadcastGroup?

    init(log: TestWebSocketLog, group: WebSocketBroadcastGroup? = nil) {
        self.log = log
        self.group = group
    }

    func opened(_ socket: WebSocketInlineSocket) {
        if let group { socket.join(group) }
        log.sockets.withLock { $0.append(TestSocketBox(socket: socket, handler: self)) }
    }

    func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, socket: WebSocketInlineSocket) {}

    func closed(_ code: WebSocketCloseCode?, reason: String) {
        log.closes.withLock { $0.append(code?.rawValue) }
    }
}

extension MemoryServer {
    /// Sends the handshake and returns what followed the `101` (nil if refused).
    func upgrade(_ path: String = "/ws", extra: String = "") -> [UInt8]? {
        send(WebSocketTestClient.request(path, extra: extra))
        return WebSocketTestClient.afterSwitch(io.takeOutput())
    }
}
