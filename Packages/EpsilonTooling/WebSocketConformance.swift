import EpsilonWebSocket
import EpsilonWebSocketDeflate
import Foundation

/// Runs WebSocket conformance vectors (RFC 6455 §1.3/§5.7 and RFC 7692 §7.2.3 examples).
///
/// Reads every `*.json` file in a folder that has the shape of
/// `../shared/vectors/websocket/rfc-examples.json`: `rfc6455_handshake`, `rfc6455_frames`,
/// `rfc7692_permessage_deflate`. Each handshake, frame example and deflate example is one case.
/// A frame case decodes the bytes whole and one byte at a time, compares every header field
/// and the payload, re-encodes the frame and compares bytes, and assembles the message.
/// A deflate case inflates the messages in order through the connection machine (context
/// kept across the messages of one example) and compares the text.
public enum WebSocketConformance {
    /// Runs every vector file in `folder`, logging one line per failed case and a summary.
    ///
    /// - Returns: the number of passed and failed cases.
    /// - Throws: when the folder cannot be read or a file is not JSON of the expected shape.
    public static func run(folder: String, log: (String) -> Void) throws -> (passed: Int, failed: Int) {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        var passed = 0
        var failed = 0
        for name in names {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent(name))
            guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw WebSocketConformanceError.notAnObject(name)
            }
            for (caseName, problems) in try runCases(root, file: name) {
                if problems.isEmpty {
                    passed += 1
                } else {
                    failed += 1
                    log("FAIL \(caseName): \(problems.joined(separator: "; "))")
                }
            }
        }
        log("\(passed) passed, \(failed) failed")
        return (passed, failed)
    }

    static func runCases(_ root: [String: Any], file: String) throws -> [(String, [String])] {
        var results: [(String, [String])] = []
        if let handshake = root["rfc6455_handshake"] as? [String: Any] {
            var problems: [String] = []
            let key = handshake["sec_websocket_key"] as? String ?? ""
            let accept = handshake["sec_websocket_accept"] as? String ?? ""
            if let guid = handshake["guid"] as? String, guid != WebSocketHandshake.guid { problems.append("GUID differs") }
            let computed = WebSocketHandshake.acceptValue(forKey: key)
            if computed != accept { problems.append("accept \(computed), expected \(accept)") }
            results.append(("\(file) handshake", problems))
        }
        for (index, example) in (root["rfc6455_frames"] as? [[String: Any]] ?? []).enumerated() {
            let name = "\(file) rfc6455_frames[\(index)] \(example["description"] as? String ?? "")"
            results.append((name, frameExample(example)))
        }
        for (index, example) in (root["rfc7692_permessage_deflate"] as? [[String: Any]] ?? []).enumerated() {
            let name = "\(file) rfc7692[\(index)] \(example["section"] as? String ?? "") \(example["description"] as? String ?? "")"
            results.append((name, deflateExample(example)))
        }
        return results
    }

    // MARK: RFC 6455 frames

    static func frameExample(_ example: [String: Any]) -> [String] {
        var problems: [String] = []
        if let headerHex = example["header_hex"] as? String {
            // Header-only example: the payload is arbitrary, use zeros.
            guard let header = webSocketHex(headerHex) else { return ["bad header_hex"] }
            let length = example["payload_length"] as? Int ?? 0
            let bytes = header + [UInt8](repeating: 0, count: length)
            let masked = example["masked"] as? Bool ?? false
            problems += checkFrames(bytes, expected: [example], role: masked ? .server : .client, compression: false)
            return problems
        }
        guard let frames = example["frames"] as? [[String: Any]] else { return ["no frames"] }
        var stream: [UInt8] = []
        for frame in frames {
            guard let bytes = webSocketHex(frame["hex"] as? String ?? "") else { return ["bad hex"] }
            stream += bytes
        }
        let masked = frames.first?["masked"] as? Bool ?? false
        let role: WebSocketRole = masked ? .server : .client
        problems += checkFrames(stream, expected: frames, role: role, compression: false)
        // Message assembly, whole and one byte at a time.
        for split in [false, true] {
            switch collect(stream, role: role, compression: false, split: split) {
            case .failure(let error):
                problems.append("connection: \(error)")
            case .success(let items):
                let text = example["message_text"] as? String ?? ""
                let expected: WebSocketMessageCollector.Item
                switch WebSocketOpcode(rawValue: UInt8(frames[0]["opcode"] as? Int ?? 0)) {
                case .ping: expected = .ping(Array(text.utf8))
                case .pong: expected = .pong(Array(text.utf8))
                case .binary: expected = .message(.binary, Array(text.utf8))
                default: expected = .message(.text, Array(text.utf8))
                }
                if items != [expected] { problems.append("messages \(items), expected \(expected)\(split ? " (byte by byte)" : "")") }
            }
        }
        return problems
    }

    // Decodes with the frame decoder, compares every field, re-encodes and compares bytes.
    static func checkFrames(_ stream: [UInt8], expected: [[String: Any]], role: WebSocketRole, compression: Bool) -> [String] {
        var problems: [String] = []
        for split in [false, true] {
            var decoded: [(WebSocketFrameHeader, [UInt8])] = []
            var current: (WebSocketFrameHeader, [UInt8])?
            var decoder = WebSocketFrameDecoder(role: role)
            if compression { decoder.configuration.allowedReservedBits = .rsv1 }
            let result: Result<Void, WebSocketError> = stream.withUnsafeBytes { all in
                Result { () throws(WebSocketError) in
                    let chunk = split ? 1 : max(1, all.count)
                    var start = 0
                    while start < all.count {
                        let end = min(all.count, start + chunk)
                        try decoder.decode(UnsafeRawBufferPointer(rebasing: all[start..<end])) { event in
                            switch event {
                            case .header(let header, _, _): current = (header, [])
                            case .payload(let bytes): current?.1 += bytes
                            case .end: if let c = current { decoded.append(c) }
                            }
                        }
                        start = end
                    }
                }
            }
            if case .failure(let error) = result {
                problems.append("decoder: \(error)")
                continue
            }
            guard decoded.count == expected.count else {
                problems.append("decoded \(decoded.count) frames, expected \(expected.count)")
                continue
            }
            for (i, (header, payload)) in decoded.enumerated() {
                let e = expected[i]
                let tag = "frame \(i)\(split ? " (byte by byte)" : "")"
                if header.fin != ((e["fin"] as? Int ?? 0) == 1) { problems.append("\(tag) FIN") }
                if header.reserved.contains(.rsv1) != ((e["rsv1"] as? Int ?? 0) == 1) { problems.append("\(tag) RSV1") }
                if header.opcode.rawValue != UInt8(e["opcode"] as? Int ?? -1) { problems.append("\(tag) opcode \(header.opcode)") }
                if (header.maskingKey != nil) != (e["masked"] as? Bool ?? false) { problems.append("\(tag) mask bit") }
                if header.payloadLength != UInt64(e["payload_length"] as? Int ?? -1) { problems.append("\(tag) length \(header.payloadLength)") }
                if let keyHex = e["mask_key_hex"] as? String, let key = webSocketHex(keyHex), key.count == 4 {
                    let value = UInt32(key[0]) << 24 | UInt32(key[1]) << 16 | UInt32(key[2]) << 8 | UInt32(key[3])
                    if header.maskingKey != value { problems.append("\(tag) masking key") }
                }
                if let payloadHex = e["payload_hex"] as? String, webSocketHex(payloadHex) != payload {
                    problems.append("\(tag) payload \(payload)")
                }
                // Re-encode from the decoded fields and compare with the original bytes.
                if !split, let hex = (e["hex"] as? String) ?? (e["header_hex"] as? String), let original = webSocketHex(hex) {
                    var encoded: [UInt8] = []
                    if e["header_hex"] != nil {
                        WebSocketFrameEncoder.writeHeader(header, into: &encoded)
                    } else {
                        payload.withUnsafeBytes { WebSocketFrameEncoder.writeFrame(header, payload: $0, into: &encoded) }
                    }
                    if encoded != original { problems.append("\(tag) re-encoded \(webSocketHexString(encoded))") }
                }
            }
        }
        return problems
    }

    // MARK: RFC 7692

    static func deflateExample(_ example: [String: Any]) -> [String] {
        var problems: [String] = []
        guard let messages = example["messages"] as? [[String: Any]] else { return ["no messages"] }
        var stream: [UInt8] = []
        var expected: [WebSocketMessageCollector.Item] = []
        var payloadOnly: [[UInt8]] = []
        for message in messages {
            let text = message["decompressed_text"] as? String ?? ""
            if let frames = message["frames"] as? [[String: Any]] {
                var bytes: [UInt8] = []
                for frame in frames { bytes += webSocketHex(frame["hex"] as? String ?? "") ?? [] }
                problems += checkFrames(bytes, expected: frames, role: .client, compression: true)
                stream += bytes
                expected.append(.message(.text, Array(text.utf8)))
            } else if let frameHex = message["frame_hex"] as? String, let bytes = webSocketHex(frameHex) {
                stream += bytes
                expected.append(.message(.text, Array(text.utf8)))
            } else if let payloadHex = message["payload_hex"] as? String, let payload = webSocketHex(payloadHex) {
                payloadOnly.append(payload)
                // Inflate the bare payload directly.
                let decompressor = WebSocketDeflateDecompressor(noContextTakeover: false)
                var out: [UInt8] = []
                do throws(WebSocketError) {
                    try webSocketWithBytes(payload) { (raw) throws(WebSocketError) in
                        try decompressor.decompress(raw) { out += $0 }
                    }
                    try decompressor.finish { out += $0 }
                    if out != Array(text.utf8) { problems.append("inflated \(out), expected \(text)") }
                } catch {
                    problems.append("inflate: \(error)")
                }
            }
        }
        if !stream.isEmpty {
            for split in [false, true] {
                switch collect(stream, role: .client, compression: true, split: split) {
                case .failure(let error): problems.append("connection: \(error)")
                case .success(let items):
                    if items != expected { problems.append("messages \(items), expected \(expected)\(split ? " (byte by byte)" : "")") }
                }
            }
        }
        // Our own compressor must round-trip every text of the example.
        let compressor = WebSocketDeflateCompressor(windowBits: 15, noContextTakeover: false)
        let decompressor = WebSocketDeflateDecompressor(noContextTakeover: false)
        for message in messages {
            let text = Array((message["decompressed_text"] as? String ?? "").utf8)
            let compressed = compressor.compress(text)
            var out: [UInt8] = []
            do throws(WebSocketError) {
                try webSocketWithBytes(compressed) { (raw) throws(WebSocketError) in try decompressor.decompress(raw) { out += $0 } }
                try decompressor.finish { out += $0 }
                if out != text { problems.append("own round trip gave \(out)") }
            } catch {
                problems.append("own round trip: \(error)")
            }
        }
        _ = payloadOnly
        return problems
    }

    /// Feeds a stream through a connection (and the deflate handler) and collects the items.
    static func collect(_ stream: [UInt8], role: WebSocketRole, compression: Bool, split: Bool) -> Result<[WebSocketMessageCollector.Item], WebSocketError> {
        var configuration = WebSocketConnection.Configuration()
        configuration.allowsCompressedMessages = compression
        var connection = WebSocketConnection(role: role, configuration: configuration)
        var handler = WebSocketDeflateHandler(WebSocketMessageCollector(), decompressor: WebSocketDeflateDecompressor(noContextTakeover: false))
        let result: Result<Void, WebSocketError> = stream.withUnsafeBytes { all in
            Result { () throws(WebSocketError) in
                let chunk = split ? 1 : max(1, all.count)
                var start = 0
                while start < all.count {
                    let end = min(all.count, start + chunk)
                    try connection.receive(UnsafeRawBufferPointer(rebasing: all[start..<end]), now: 0, handler: &handler)
                    start = end
                }
            }
        }
        return result.map { handler.inner.items }
    }
}

/// A vector file that is not a JSON object.
public enum WebSocketConformanceError: Error, CustomStringConvertible {
    /// The named file's top level is not an object.
    case notAnObject(String)

    /// The file name and problem.
    public var description: String {
        switch self {
        case .notAnObject(let name): return "\(name): not a JSON object"
        }
    }
}

/// Runs `body` over an array's bytes, keeping the typed error.
func webSocketWithBytes(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(WebSocketError) -> Void) throws(WebSocketError) {
    let result: Result<Void, WebSocketError> = bytes.withUnsafeBytes { raw in
        Result { () throws(WebSocketError) in try body(raw) }
    }
    try result.get()
}

/// Parses hex with optional spaces; nil if malformed.
func webSocketHex(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
    guard digits.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    var i = 0
    while i < digits.count {
        guard let value = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
        out.append(value)
        i += 2
    }
    return out
}

/// Formats bytes as lowercase hex.
func webSocketHexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
