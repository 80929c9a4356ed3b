import EpsilonHTTP1
import Synchronization
import Testing

/// What the README example printed.
let readmeLines = Mutex<[String]>([])

// README begin
struct Printer: HTTP1EventHandler {
    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, fields: [HTTP1Field]) throws(HTTP1ParseError) {
        switch event {                                // ranges index `bytes`, valid during the call
        case .head(let head): print("head", String(decoding: bytes[head.target], as: UTF8.self), fields.count)
        case .body(let range): print("body", bytes[range].count)   // a view: copy to keep
        case .end: print("end")
        default: break
        }
    }
}
// README end

extension Printer {
    /// Records instead of printing (found before `Swift.print` inside `Printer`).
    func print(_ items: Any...) {
        let line = items.map { "\($0)" }.joined(separator: " ")
        readmeLines.withLock { $0.append(line) }
    }
}

/// The README's embedding example, kept compiling and true.
@Suite struct ReadmeExample {
    @Test func embeddingExampleParsesPipelinedRequests() throws {
        let input = Array("GET /hello HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /x HTTP/1.1\r\n".utf8)
        // README begin
        var parser = HTTP1Parser(role: .request)              // strict RFC 9112 by default
        var printer = Printer()
        let consumed = try input.withUnsafeBytes { try parser.receive($0, handler: &printer) }
        // Every event `input` holds was handled in that one call (throws HTTP1ParseError: rule,
        // offset, section). Keep input[consumed...] (an incomplete head), append what arrives, call again.
        // README end
        #expect(readmeLines.withLock { $0 } == ["head /hello 1", "end", "head /echo 2", "body 2", "end"])
        #expect(consumed == input.count - 17)
    }
}
