import EpsilonHTTP1

/// A test-only reading of an HTTP/1.1 head (a WebSocket opening handshake's request or
/// response), read by EpsilonHTTP1's parser: the start line's three parts and the fields as
/// strings. The WebSocket test targets use it so that they need no head reader of their own.
public struct TestHead {
    /// The start line's parts: method, target, version; or version, status, reason.
    public var startLine: [String]
    /// The field lines, names as sent, values without surrounding whitespace.
    public var fields: [(String, String)]

    /// Reads the head at the start of `bytes`, or `nil` when they hold no complete, valid head.
    public init?(_ bytes: [UInt8]) {
        let isResponse = bytes.starts(with: "HTTP/".utf8)
        var parser = HTTP1Parser(role: isResponse ? .response : .request)
        let read: (startLine: [String], fields: [(String, String)])? = bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                guard let step = try? parser.parse(rest) else { return nil }
                if case .head(let head) = step.event {
                    func text(_ range: Range<Int>) -> String { String(decoding: rest[range], as: UTF8.self) }
                    let startLine = isResponse
                        ? [head.version.description, String(head.status), text(head.reason)]
                        : [text(head.method), text(head.target), head.version.description]
                    return (startLine, parser.fields.map { (text($0.name), text($0.value)) })
                }
                guard step.consumed > 0 else { return nil }
                offset += step.consumed
            }
            return nil
        }
        guard let read else { return nil }
        startLine = read.startLine
        fields = read.fields
    }
}
