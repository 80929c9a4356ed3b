import EpsilonTestHead
import EpsilonWebSocket
import EpsilonWebSocketDeflate
import Foundation
import Testing

/// Drives `wsproto_peer.py` (Python's wsproto) over pipes, one line per step.
final class WsprotoPeer {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var buffered = Data()

    init(mode: String, deflate: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("wsproto_peer.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, mode, deflate]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    func send(_ bytes: [UInt8]) {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2 + 1)
        for b in bytes {
            text.append(digits[Int(b >> 4)])
            text.append(digits[Int(b & 15)])
        }
        text.append(UInt8(ascii: "\n"))
        input.fileHandleForWriting.write(Data(text))
    }

    /// Reads one JSON line; fails the test (via throw) if the peer died, e.g. wsproto is missing.
    func receive() throws -> [String: Any] {
        while !buffered.contains(UInt8(ascii: "\n")) {
            let more = output.fileHandleForReading.availableData
            if more.isEmpty { throw PeerError.peerExited("python3 wsproto_peer.py exited: is wsproto installed (pip install wsproto)?") }
            buffered.append(more)
        }
        let index = buffered.firstIndex(of: UInt8(ascii: "\n"))!
        let line = buffered[buffered.startIndex..<index]
        buffered = Data(buffered[(index + 1)...])
        guard let object = try JSONSerialization.jsonObject(with: line) as? [String: Any] else { throw PeerError.badReply }
        return object
    }

    enum PeerError: Error { case peerExited(String), badReply }
}

func bytes(fromHex text: String) -> [UInt8] {
    func value(_ c: UInt8) -> UInt8 { c <= UInt8(ascii: "9") ? c - UInt8(ascii: "0") : (c | 0x20) - UInt8(ascii: "a") + 10 }
    let digits = Array(text.utf8)
    var out = [UInt8]()
    out.reserveCapacity(digits.count / 2)
    var i = 0
    while i + 1 < digits.count {
        out.append(value(digits[i]) << 4 | value(digits[i + 1]))
        i += 2
    }
    return out
}

/// The messages each side sends: multi-byte text, binary, empty, repeated (for the shared
/// window), large and poorly compressible.
func roundTripMessages() -> [WebSocketMessageCollector.Item] {
    var seed: UInt32 = 12345
    let noise = (0..<200_000).map { _ -> UInt8 in
        seed = seed &* 1_103_515_245 &+ 12345
        return UInt8(truncatingIfNeeded: seed >> 16)
    }
    let words = ["window", "deflate", "message", "frame", "shared", "context", "takeover", "zlib", "byte", "mask"]
    let repeated = Array((0..<600).map { _ -> String in
        seed = seed &* 1_103_515_245 &+ 12345
        return words[Int(seed >> 16) % words.count]
    }.joined(separator: " ").utf8)
    return [
        .message(.text, Array("Hello".utf8)),
        .message(.text, Array("κόσμε 😀 €".utf8)),
        .message(.binary, (0...255).map { UInt8($0) }),
        .message(.text, []),
        .message(.text, repeated),
        .message(.text, repeated),
        .message(.binary, noise),
        .message(.text, Array(String(repeating: "x", count: 70_000).utf8)),
    ]
}

/// Sends the round-trip messages; the second goes in two fragments (split inside a multi-byte
/// character when uncompressed) with a Ping between them. wsproto 1.3.2 cannot take a control
/// frame between the fragments of a compressed message (its extension forgets the message is
/// compressed after the Ping), so with compression the Ping goes just before the message; our
/// own receiver is tested with that interleaving in DeflateTests.
func sendMessages(_ messages: [WebSocketMessageCollector.Item], connection: inout WebSocketConnection, compressor: WebSocketDeflateCompressor?, into out: inout [UInt8]) throws {
    defer { connection.writeOutput(into: &out) }
    for (index, item) in messages.enumerated() {
        guard case .message(let kind, let payload) = item else { continue }
        if index == 1 {
            // Fragmented by hand with a Ping in the middle.
            var body: [UInt8] = []
            if let compressor, compressor.isCompressing { body = compressor.compress(payload) } else { body = payload }
            let compressed = compressor?.isCompressing ?? false
            let half = body.count / 2
            if compressor != nil { try Array("between".utf8).withUnsafeBytes { try connection.sendPing($0) } }
            try body[..<half].withUnsafeBytes { try connection.send(kind, payload: $0, fin: false, compressed: compressed) }
            if compressor == nil { try Array("between".utf8).withUnsafeBytes { try connection.sendPing($0) } }
            try body[half...].withUnsafeBytes { try connection.sendContinuation($0, fin: true) }
        } else if let compressor {
            try payload.withUnsafeBytes { try connection.sendCompressed(kind, payload: $0, compressor: compressor, maxFragment: index == 6 ? 50_000 : nil) }
        } else {
            try payload.withUnsafeBytes { try connection.send(kind, payload: $0) }
        }
    }
}

/// Converts the peer's JSON messages to items.
func items(fromPeer messages: [[String: Any]]) -> [WebSocketMessageCollector.Item] {
    messages.compactMap { m in
        switch m["type"] as? String {
        case "text": return .message(.text, bytes(fromHex: m["hex"] as! String))
        case "binary": return .message(.binary, bytes(fromHex: m["hex"] as! String))
        case "ping": return .ping(bytes(fromHex: m["hex"] as! String))
        case "close": return .close(WebSocketCloseCode(UInt16(m["code"] as! Int)), m["reason"] as? String ?? "")
        default: return nil
        }
    }
}

/// For each data message in `stream`: whether its first frame has RSV1, and its total payload size.
func messageSizes(_ stream: [UInt8], role: WebSocketRole) throws -> [(Bool, UInt64)] {
    var decoder = WebSocketFrameDecoder(role: role, configuration: { var c = WebSocketFrameDecoder.Configuration(); c.allowedReservedBits = .rsv1; return c }())
    var sizes: [(Bool, UInt64)] = []
    var current: (Bool, UInt64)?
    let result: Result<Void, WebSocketError> = stream.withUnsafeBytes { buffer in
        Result { () throws(WebSocketError) in
            try decoder.decode(buffer) { event in
                guard case .header(let h, _, _) = event, !h.opcode.isControl else { return }
                let total = (current?.1 ?? 0) + h.payloadLength
                current = (current?.0 ?? h.reserved.contains(.rsv1), total)
                if h.fin, let done = current {
                    sizes.append(done)
                    current = nil
                }
            }
        }
    }
    try result.get()
    return sizes
}

/// Round trips against Python's wsproto (needs `pip install wsproto`; fails without it).
@Suite(.serialized) struct WsprotoPeerRoundTrip {
    @Test(arguments: ["none", "takeover", "no-takeover"])
    func epsilonClientAgainstWsprotoServer(_ deflate: String) throws {
        let peer = try WsprotoPeer(mode: "server", deflate: deflate)
        let offer: WebSocketDeflateClientOffer? = deflate == "none" ? nil
            : WebSocketDeflateClientOffer(requestServerNoContextTakeover: deflate == "no-takeover", clientNoContextTakeover: deflate == "no-takeover")
        let handshake = WebSocketClientHandshake(host: "localhost", target: "/chat", extensions: offer.map { [$0.extensionOffer] } ?? [])
        peer.send(handshake.request())
        let responseBytes = bytes(fromHex: try peer.receive()["out"] as? String ?? "")
        let head = try #require(TestHead(responseBytes))
        let accepted = try handshake.validateResponse(status: Int(head.startLine[1])!, fields: head.fields)
        let parameters = try offer?.accept(extensions: accepted.extensions)
        #expect((parameters != nil) == (deflate != "none"))
        if let parameters {
            #expect(parameters.serverNoContextTakeover == (deflate == "no-takeover"))
            #expect(parameters.clientNoContextTakeover == (deflate == "no-takeover"))
        }

        var configuration = WebSocketConnection.Configuration()
        configuration.allowsCompressedMessages = parameters != nil
        var connection = WebSocketConnection(role: .client, configuration: configuration)
        let compressor = parameters.map { WebSocketDeflateCompressor(parameters: $0, role: .client) }
        let messages = roundTripMessages()
        var out: [UInt8] = []
        try sendMessages(messages, connection: &connection, compressor: compressor, into: &out)
        try connection.sendClose(code: .normalClosure, reason: "bye", now: 0)
        connection.writeOutput(into: &out)
        if parameters != nil {
            let sizes = try messageSizes(out, role: .server)
            #expect(sizes.allSatisfy { $0.0 })
            // Messages 4 and 5 are identical: with a shared window the second is far smaller.
            if deflate == "takeover" { #expect(sizes[5].1 * 4 < sizes[4].1) } else { #expect(sizes[5].1 == sizes[4].1) }
        }
        peer.send(out)
        let reply = try peer.receive()
        // What wsproto decoded from our frames.
        let received = items(fromPeer: reply["messages"] as? [[String: Any]] ?? [])
        #expect(received == [messages[0], .ping(Array("between".utf8))] + messages[1...] + [.close(.normalClosure, "bye")])
        // What we decode from wsproto's echo, compressed by wsproto's own zlib.
        let echo = bytes(fromHex: reply["out"] as? String ?? "")
        if parameters != nil {
            let sizes = try messageSizes(echo, role: .client)
            #expect(sizes.allSatisfy { $0.0 })
            if deflate == "takeover" { #expect(sizes[5].1 * 4 < sizes[4].1) } else { #expect(sizes[5].1 == sizes[4].1) }
        }
        let decompressor = WebSocketDeflateDecompressor(parameters: parameters ?? WebSocketDeflateParameters(), role: .client)
        var handler = WebSocketDeflateHandler(WebSocketMessageCollector(), decompressor: decompressor)
        let result: Result<Int, WebSocketError> = echo.withUnsafeBytes { buffer in
            Result { () throws(WebSocketError) in try connection.receive(buffer, now: 0, handler: &handler) }
        }
        _ = try result.get()
        #expect(handler.inner.items == [messages[0], .pong(Array("between".utf8))] + messages[1...] + [.close(.normalClosure, "bye")])
        #expect(connection.state == .closed)
    }

    @Test(arguments: ["none", "takeover", "no-takeover"])
    func epsilonServerAgainstWsprotoClient(_ deflate: String) throws {
        let peer = try WsprotoPeer(mode: "client", deflate: deflate)
        let requestBytes = bytes(fromHex: try peer.receive()["out"] as? String ?? "")
        let head = try #require(TestHead(requestBytes))
        let request = try WebSocketServerHandshake.validateRequest(method: head.startLine[0], target: head.startLine[1], version: (1, 1), fields: head.fields)
        #expect(request.target == "/chat")
        let negotiated = WebSocketDeflateServerPolicy().accept(offers: request.extensions)
        #expect((negotiated != nil) == (deflate != "none"))
        let parameters = negotiated?.parameters
        if let parameters {
            #expect(parameters.serverNoContextTakeover == (deflate == "no-takeover"))
            #expect(parameters.clientNoContextTakeover == (deflate == "no-takeover"))
        }
        var out = WebSocketServerHandshake.response(for: request, extensions: negotiated.map { [$0.response] } ?? [])

        var configuration = WebSocketConnection.Configuration()
        configuration.allowsCompressedMessages = parameters != nil
        var connection = WebSocketConnection(role: .server, configuration: configuration)
        let compressor = parameters.map { WebSocketDeflateCompressor(parameters: $0, role: .server) }
        let messages = roundTripMessages()
        try sendMessages(messages, connection: &connection, compressor: compressor, into: &out)
        peer.send(out)
        let reply = try peer.receive()
        let received = items(fromPeer: reply["messages"] as? [[String: Any]] ?? [])
        #expect(received == [messages[0], .ping(Array("between".utf8))] + messages[1...])

        let echo = bytes(fromHex: reply["out"] as? String ?? "")
        if parameters != nil {
            let sizes = try messageSizes(echo, role: .server)
            #expect(sizes.allSatisfy { $0.0 })
            if deflate == "takeover" { #expect(sizes[5].1 * 4 < sizes[4].1) } else { #expect(sizes[5].1 == sizes[4].1) }
        }
        let decompressor = WebSocketDeflateDecompressor(parameters: parameters ?? WebSocketDeflateParameters(), role: .server)
        var handler = WebSocketDeflateHandler(WebSocketMessageCollector(), decompressor: decompressor)
        for chunk in stride(from: 0, to: echo.count, by: 1000) {
            // Socket-sized reads: fragments and frames split at arbitrary points.
            let piece = Array(echo[chunk..<min(echo.count, chunk + 1000)])
            let result: Result<Int, WebSocketError> = piece.withUnsafeBytes { buffer in
                Result { () throws(WebSocketError) in try connection.receive(buffer, now: 0, handler: &handler) }
            }
            _ = try result.get()
        }
        #expect(handler.inner.items == [messages[0], .pong(Array("between".utf8))] + messages[1...] + [.close(.normalClosure, "done")])
        // The Close reply is already in the output.
        #expect(connection.state == .closed)
        var closing: [UInt8] = []
        connection.writeOutput(into: &closing)
        #expect(closing.first == 0x88)
    }
}
