import EpsilonTooling
import EpsilonWebSocket
import Foundation
import Testing

/// The package root, found from this file's path (Tests/EpsilonToolingTests/ is two levels down).
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
private let vectorFolder = packageRoot + "/../shared/vectors/websocket"

@Suite struct WebSocketConformanceTests {
    @Test func passesEveryRFCExample() throws {
        var logged: [String] = []
        let result = try WebSocketConformance.run(folder: vectorFolder) { logged.append($0) }
        print("WebSocketConformance.run(folder: ../shared/vectors/websocket): \(logged.last ?? "")")
        #expect(result.failed == 0, "\(logged)")
        // 1 handshake + 7 RFC 6455 frame examples + 7 RFC 7692 examples.
        #expect(result.passed == 15)
        #expect(logged.last == "15 passed, 0 failed")
    }

    @Test func reportsABrokenVector() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ws-conformance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = """
            {"rfc6455_handshake": {"sec_websocket_key": "dGhlIHNhbXBsZSBub25jZQ==", "sec_websocket_accept": "wrong="},
             "rfc6455_frames": [{"description": "bad text", "frames": [{"hex": "8102c328", "fin": 1, "rsv1": 0, "opcode": 1,
               "masked": false, "payload_length": 2, "mask_key_hex": null, "payload_hex": "c328"}], "message_text": "x"}]}
            """
        try Data(json.utf8).write(to: folder.appendingPathComponent("broken.json"))
        var logged: [String] = []
        let result = try WebSocketConformance.run(folder: folder.path) { logged.append($0) }
        #expect(result.passed == 0)
        #expect(result.failed == 2)
        #expect(logged.contains { $0.contains("invalidUTF8") })
    }
}

@Suite struct WebSocketInspectorTests {
    @Test func printsFramesAndMessagesOfAServerStream() {
        // RFC 6455 §5.7: fragmented "Hello", a Ping, then Close 1000.
        let bytes: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6C, 0x89, 0x02, 0x68, 0x69, 0x80, 0x02, 0x6C, 0x6F, 0x88, 0x02, 0x03, 0xE8]
        let report = WebSocketInspector.describe(bytes)
        #expect(report.contains("#0 @0: --- text len=3"))
        #expect(report.contains("#1 @5: FIN ping len=2 payload: \"hi\""))
        #expect(report.contains("#3 @13: FIN close len=2 payload: code 1000 (normal closure)"))
        #expect(report.contains("text(5 bytes) \"Hello\""))
        #expect(report.contains("ping \"hi\""))
        #expect(report.contains("close 1000 (normal closure) \"\""))
    }

    @Test func clientSwitchExpectsMaskedFrames() {
        let masked: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        let asClient = WebSocketInspector.describe(masked, sentByClient: true)
        #expect(asClient.contains("mask=37fa213d"))
        #expect(asClient.contains("text(5 bytes) \"Hello\""))
        let asServer = WebSocketInspector.describe(masked, sentByClient: false)
        #expect(asServer.contains("error: maskedServerFrame at byte 1"))
    }

    @Test func readsTheHandshakeAndInflatesCompressedMessages() throws {
        let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
        let bytes = Array(head.utf8) + [0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ws-capture-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let report = try WebSocketInspector.describe(contentsOf: file.path)
        #expect(report.contains("handshake: HTTP/1.1 101 Switching Protocols"))
        #expect(report.contains("permessage-deflate"))
        #expect(report.contains("FIN RSV1 text len=7"))
        #expect(report.contains("text(5 bytes) \"Hello\""))
    }
}
