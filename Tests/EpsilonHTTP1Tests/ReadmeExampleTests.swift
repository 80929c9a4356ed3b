import EpsilonHTTP1
import Testing

/// The README's embedding example, kept compiling and true.
@Suite struct ReadmeExample {
    @Test func embeddingExampleParsesPipelinedRequests() throws {
        var printed: [String] = []
        func print(_ items: Any...) { printed.append(items.map { "\($0)" }.joined(separator: " ")) }
        let input = Array("GET /hello HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi".utf8)
        // README begin
        var parser = HTTP1Parser(role: .request)          // strict RFC 9112 by default
        var offset = 0                                    // bytes consumed so far
        try input.withUnsafeBytes { all in
            while true {
                let bytes = UnsafeRawBufferPointer(rebasing: all[offset...])
                let step = try parser.parse(bytes)        // throws HTTP1ParseError(reason, offset)
                offset += step.consumed
                switch step.event {
                case .head(let head): print("head", String(decoding: bytes[head.target], as: UTF8.self), parser.fields.count)
                case .body(let range): print("body", bytes[range].count)   // a view: copy to keep
                case .end: print("end")
                case .needMoreData where step.consumed == 0: return     // keep input[offset...], read more
                default: continue
                }
            }
        }
        // README end
        #expect(printed == ["head /hello 1", "end", "head /echo 2", "body 2", "end"])
        #expect(offset == input.count)
    }
}
