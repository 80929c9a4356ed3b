import EpsilonHTTP1
import EpsilonWebSocket
import EpsilonWebSocketDeflate
import Foundation

/// Prints the frames and messages in a captured WebSocket byte stream (one direction).
///
/// A stream may start with its HTTP head (the client's request or the server's 101 response);
/// the head is shown, and permessage-deflate is enabled when it names the extension.
public enum WebSocketInspector {
    /// Describes a capture of the bytes one end sent.
    ///
    /// - Parameters:
    ///   - bytes: the captured bytes of one direction.
    ///   - sentByClient: true for client-to-server bytes (frames must be masked), false for
    ///     server-to-client bytes (the default of `epsilon inspect websocket`; `--client` sets it).
    ///   - compression: whether RSV1 means permessage-deflate; nil to decide from the HTTP head.
    /// - Returns: the report, one line per frame, message, control frame or error. Errors in
    ///   the stream are reported in the text, not thrown.
    public static func describe(_ bytes: [UInt8], sentByClient: Bool = false, compression: Bool? = nil) -> String {
        var lines: [String] = []
        var stream = bytes
        var deflate = compression ?? false
        let looksLikeHead = bytes.starts(with: Array("GET ".utf8)) || bytes.starts(with: Array("HTTP/".utf8))
        if looksLikeHead {
            switch readHead(bytes) {
            case .incomplete:
                lines.append("handshake: incomplete HTTP head")
                return lines.joined(separator: "\n")
            case .malformed(let error):
                lines.append("handshake: malformed HTTP head (\(error))")
                return lines.joined(separator: "\n")
            case .head(let startLine, let fields, let length):
                lines.append("handshake: \(startLine)")
                for (name, value) in fields { lines.append("  \(name): \(value)") }
                if compression == nil {
                    var offers: [WebSocketExtensionOffer] = []
                    for (name, value) in fields where name.lowercased() == "sec-websocket-extensions" {
                        try? WebSocketExtensionOffer.parse(value.utf8, into: &offers)
                    }
                    deflate = offers.contains { $0.name.lowercased() == "permessage-deflate" }
                }
                stream = Array(bytes[length...])
            }
        }
        let receiver: WebSocketRole = sentByClient ? .server : .client
        lines.append("frames (\(sentByClient ? "client to server" : "server to client")\(deflate ? ", permessage-deflate" : "")):")
        lines += frameLines(stream, receiver: receiver, deflate: deflate)
        lines.append("messages:")
        lines += messageLines(stream, receiver: receiver, deflate: deflate)
        return lines.joined(separator: "\n")
    }

    /// Reads a capture file and describes it.
    public static func describe(contentsOf path: String, sentByClient: Bool = false) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return describe([UInt8](data), sentByClient: sentByClient)
    }

    enum Head {
        case incomplete
        case malformed(HTTP1ParseError)
        case head(startLine: String, fields: [(String, String)], length: Int)
    }

    /// Reads the HTTP head at the front of a capture with the HTTP/1.1 machine.
    static func readHead(_ bytes: [UInt8]) -> Head {
        var parser = HTTP1Parser(role: bytes.starts(with: Array("HTTP/".utf8)) ? .response : .request)
        return bytes.withUnsafeBytes { raw -> Head in
            var start = 0
            while true {
                let rest = UnsafeRawBufferPointer(rebasing: raw[start...])
                let step: HTTP1Step
                do throws(HTTP1ParseError) {
                    step = try parser.parse(rest)
                } catch {
                    return .malformed(error)
                }
                switch step.event {
                case .head(let head):
                    let text = { (range: Range<Int>) in String(decoding: rest[range], as: UTF8.self) }
                    let lineEnd = rest.firstIndex(of: 13) ?? head.length
                    let fields = parser.fields.map { (text($0.name), text($0.value)) }
                    return .head(startLine: text(0..<lineEnd), fields: fields, length: start + head.length)
                case .needMoreData where step.consumed == 0:
                    return .incomplete
                default:
                    start += step.consumed
                }
            }
        }
    }

    static func frameLines(_ stream: [UInt8], receiver: WebSocketRole, deflate: Bool) -> [String] {
        var lines: [String] = []
        var decoder = WebSocketFrameDecoder(role: receiver)
        if deflate { decoder.configuration.allowedReservedBits = .rsv1 }
        var index = 0
        var payload: [UInt8] = []
        var current: WebSocketFrameHeader?
        var currentOffset = 0
        let result: Result<Void, WebSocketError> = stream.withUnsafeBytes { all in
            Result { () throws(WebSocketError) in
                try decoder.decode(all) { event in
                    switch event {
                    case .header(let header, let offset, _):
                        current = header
                        currentOffset = offset
                        payload.removeAll(keepingCapacity: true)
                    case .payload(let bytes):
                        payload += bytes
                    case .end:
                        if let header = current {
                            lines.append("  #\(index) @\(currentOffset): \(header) payload: \(preview(payload, header: header))")
                            index += 1
                        }
                    }
                }
            }
        }
        if case .failure(let error) = result {
            lines.append("  error: \(error.rule) at byte \(error.offset)")
        } else if !decoder.isAtFrameBoundary {
            lines.append("  (stream ends inside a frame)")
        }
        return lines
    }

    static func preview(_ payload: [UInt8], header: WebSocketFrameHeader) -> String {
        if header.opcode == .close && payload.count >= 2 {
            let code = WebSocketCloseCode(UInt16(payload[0]) << 8 | UInt16(payload[1]))
            return "code \(code) reason \"\(String(decoding: payload[2...], as: UTF8.self))\""
        }
        let shown = payload.prefix(32)
        if !header.reserved.contains(.rsv1), header.opcode != .binary, WebSocketUTF8Validator.isValid(payload) {
            return "\"\(String(decoding: shown, as: UTF8.self))\"\(payload.count > 32 ? "…" : "")"
        }
        return webSocketHexString(shown) + (payload.count > 32 ? "…" : "")
    }

    static func messageLines(_ stream: [UInt8], receiver: WebSocketRole, deflate: Bool) -> [String] {
        var configuration = WebSocketConnection.Configuration()
        configuration.allowsCompressedMessages = deflate
        var connection = WebSocketConnection(role: receiver, configuration: configuration)
        var handler = WebSocketDeflateHandler(WebSocketMessageCollector(), decompressor: WebSocketDeflateDecompressor(noContextTakeover: false))
        let result: Result<Int, WebSocketError> = stream.withUnsafeBytes { all in
            Result { () throws(WebSocketError) in try connection.receive(all, now: 0, handler: &handler) }
        }
        var lines = handler.inner.items.map { "  \($0)" }
        if case .failure(let error) = result {
            lines.append("  error: \(error.rule) at byte \(error.offset) (would close with \(error.closeCode))")
        }
        return lines
    }
}
