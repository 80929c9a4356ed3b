import EpsilonHTTP1

/// An owned, comparable copy of what a parser reported, for assertions.
enum Seen: Equatable, CustomStringConvertible {
    case head(start: String, fields: [String], framing: HTTP1Framing, keepAlive: Bool, upgrade: Bool)
    case expectContinue
    case body(String)
    case chunk(size: UInt64, extensions: String)
    case chunkEnd
    case trailers([String])
    case end
    case upgrade

    var description: String {
        switch self {
        case .head(let start, let fields, let framing, let keepAlive, let upgrade):
            "head(\(start) \(fields) \(framing) keepAlive=\(keepAlive) upgrade=\(upgrade))"
        case .expectContinue: "expectContinue"
        case .body(let text): "body(\(text.debugDescription))"
        case .chunk(let size, let extensions): "chunk(\(size), \(extensions.debugDescription))"
        case .chunkEnd: "chunkEnd"
        case .trailers(let fields): "trailers(\(fields))"
        case .end: "end"
        case .upgrade: "upgrade"
        }
    }
}

/// What a whole run produced: events (bodies merged) and the error, if any.
struct ParseOutcome: Equatable {
    var events: [Seen] = []
    var error: HTTP1ParseError?
}

func text(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> String { String(decoding: b[r], as: UTF8.self) }

/// Feeds `input` in pieces ending at `cuts`, keeping unconsumed bytes like a real caller.
func parse(_ input: [UInt8], role: HTTP1Parser.Role = .request, configuration: HTTP1Configuration = HTTP1Configuration(),
           cuts: [Int] = [], finish: Bool = false, requestKind: HTTP1Parser.RequestKind = .ordinary) -> ParseOutcome {
    var parser = HTTP1Parser(role: role, configuration: configuration)
    parser.expectResponse(to: requestKind)
    var outcome = ParseOutcome()
    var pending: [UInt8] = []
    var start = 0
    func append(_ seen: Seen) {
        if case .body(let more) = seen, case .body(let previous)? = outcome.events.last {
            outcome.events[outcome.events.count - 1] = .body(previous + more)
        } else {
            outcome.events.append(seen)
        }
    }
    for end in (cuts + [input.count]) where end >= start {
        pending += input[start..<end]
        start = end
        while outcome.error == nil {
            let result: Result<HTTP1Step, HTTP1ParseError> = pending.withUnsafeBytes { b in
                do throws(HTTP1ParseError) {
                    let step = try parser.parse(b)
                    switch step.event {
                    case .needMoreData: break
                    case .head(let head):
                        let start = head.isRequest
                            ? "\(text(b, head.method)) \(text(b, head.target)) \(head.version)"
                            : "\(head.version) \(head.status) \(text(b, head.reason))"
                        append(.head(start: start, fields: parser.fields.map { "\(text(b, $0.name)): \(text(b, $0.value))" },
                                     framing: head.framing, keepAlive: head.keepAlive, upgrade: head.upgrade))
                    case .expectContinue: append(.expectContinue)
                    case .body(let r): append(.body(text(b, r)))
                    case .chunkHeader(let size, let ext): append(.chunk(size: size, extensions: text(b, ext)))
                    case .chunkEnd: append(.chunkEnd)
                    case .trailers: append(.trailers(parser.fields.map { "\(text(b, $0.name)): \(text(b, $0.value))" }))
                    case .end: append(.end)
                    case .upgrade: append(.upgrade)
                    }
                    return .success(step)
                } catch {
                    return .failure(error)
                }
            }
            switch result {
            case .failure(let error): outcome.error = error
            case .success(let step):
                pending.removeFirst(step.consumed)
                if step.event == .upgrade { return outcome }
                if step.event == .needMoreData && step.consumed == 0 { break }
                continue
            }
            break
        }
    }
    if finish && outcome.error == nil {
        do {
            if let event = try parser.finish(), event == .end { append(.end) }
        } catch {
            outcome.error = error
        }
    }
    return outcome
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
