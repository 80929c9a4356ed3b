@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonWebSocket
import EpsilonWebSocketDeflate

/// The client's handshake-and-frames path without sockets, for the libFuzzer harness
/// (Fuzz/WebSocketClientSession): the same ``WebSocketClientSession`` a connection runs, fed a
/// server's arbitrary bytes in pieces, with sends between them. Not API.
@_spi(EpsilonFuzz)
public enum WebSocketClientSessionFuzzing {
    /// The key the fuzzed handshakes use, so a fuzzer (or a seed) can hold the right accept:
    /// its Sec-WebSocket-Accept is `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=` (RFC 6455 §1.3's example).
    public static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    /// Plays `data` as a server's byte stream.
    ///
    /// Byte 0: bit 0 offers permessage-deflate; bit 1 puts a valid 101 head (with
    /// permessage-deflate when offered and bit 2 is set) before the stream, so the fuzzer
    /// reaches the frames at once; bits 3–7 pick the read size (1 + 9n bytes). Byte 1: the
    /// message limit (64 × (1 + n) bytes) and, in bit 0, whether a message is sent after each
    /// piece. The rest is the stream.
    ///
    /// Traps when a property breaks: a message over the limit, text that does not round-trip
    /// as UTF-8, output growing past a bound, or a failure that does not stick.
    /// - Returns: the number of messages received.
    public static func run(_ data: [UInt8]) -> Int {
        guard data.count >= 2 else { return 0 }
        let control = data[0]
        let limits = data[1]
        var configuration = WebSocketClientConfiguration()
        if control & 1 != 0 { configuration.compression = WebSocketDeflateClientOffer() }
        configuration.maxMessageSize = 64 * (1 + Int(limits >> 1))
        configuration.maxFrameSize = UInt64(configuration.maxMessageSize)
        let readSize = 1 + Int(control >> 3) * 9
        let sends = limits & 1 != 0
        guard let url = try? WebSocketClientURL("ws://fuzz.example/chat"),
              var session = try? WebSocketClientSession(url: url, configuration: configuration, key: key)
        else { preconditionFailure("the fuzz configuration is valid") }
        var stream = Array(data[2...])
        if control & 2 != 0 {
            var head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            if control & 1 != 0 && control & 4 != 0 { head += "Sec-WebSocket-Extensions: permessage-deflate\r\n" }
            stream = Array((head + "\r\n").utf8) + stream
        }
        var output: [UInt8] = []
        var received = 0
        var failure: WebSocketClientError?
        var start = 0
        while start < stream.count {
            let end = min(stream.count, start + readSize)
            let piece = Array(stream[start..<end])
            start = end
            do throws(WebSocketClientError) {
                try piece.withBytes { (raw) throws(WebSocketClientError) in try session.receive(raw, now: UInt64(start)) }
            } catch {
                if let failure { precondition(failure == error, "a failure must stick: \(failure) then \(error)") }
                failure = error
            }
            while let message = session.nextMessage() {
                received += 1
                precondition(message.count <= configuration.maxMessageSize, "message over the limit: \(message.count)")
                if case .text(let text) = message { precondition(String(decoding: Array(text.utf8), as: UTF8.self) == text) }
            }
            if sends && session.isOpen && !session.isFinished { try? session.send(.text("echo \(received)")) }
            session.writeOutput(into: &output)
            // Pongs, Close frames and our small sends: bounded by what came in plus a little.
            precondition(output.count <= 2 * piece.count + 4096 + 64 * received, "output grew to \(output.count)")
            output.removeAll(keepingCapacity: true)
        }
        if failure != nil { precondition(session.failure == failure) }
        return received
    }
}
