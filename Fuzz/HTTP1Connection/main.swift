// Fuzzes HTTP1Connection in both roles, fed whole and in fuzzer-chosen pieces.
// Properties: no crash; consumed counts stay inside the bytes given; the events, the output
// and the end state are the same however the stream is split (the handler answers inline and
// deterministically); a failed connection stays failed with the same error; a server's
// output always starts with a status line.
// Input: a flags byte (bit 0 client role, bit 1 answer at the head instead of the end, bit 2
// refuse 100-continue, bit 3 switch on upgrade, bit 4 small limits, bits 5-6 the client's
// request kinds), a count byte (0–15) and that many piece lengths (1–256), the stream.
import EpsilonHTTP1
import FuzzSupport

/// Records events and answers requests inline, as the flags say.
struct FuzzHandler: HTTP1ConnectionHandler {
    let flags: UInt8
    var log: [String] = []
    var isHead = false
    var answered = false

    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, connection: inout HTTP1Connection) throws(HTTP1ParseError) {
        switch event {
        case .head(let head):
            fuzzCheck(head.method.upperBound <= bytes.count && head.target.upperBound <= bytes.count
                      && head.reason.upperBound <= bytes.count, "head ranges outside the bytes")
            for field in connection.fields {
                fuzzCheck(field.name.upperBound <= bytes.count && field.value.upperBound <= bytes.count, "field outside the bytes")
            }
            log.append("head \(head.status) \(head.framing) \(head.keepAlive) \(escaped(bytes[head.target]))")
            isHead = bytes[head.method].elementsEqual("HEAD".utf8)
            answered = false
            if connection.role == .server && flags & 2 != 0 { answer(&connection) }
        case .body(let range):
            fuzzCheck(range.upperBound <= bytes.count, "body outside the bytes")
            // Body pieces follow the split: merge them.
            if let last = log.last, last.hasPrefix("body ") {
                log[log.count - 1] = last + escaped(bytes[range])
            } else {
                log.append("body \(escaped(bytes[range]))")
            }
        case .expectContinue:
            log.append("expectContinue")
            guard connection.role == .server else { return }
            if flags & 4 != 0 {
                answer(&connection)
            } else {
                log.append("continue \(String(describing: result { () throws(HTTP1UsageError) in try connection.sendContinue() }))")
            }
        case .end:
            log.append("end")
            if connection.role == .server { answer(&connection) }
        case .upgrade:
            log.append("upgrade")
            if connection.role == .server && flags & 8 != 0 {
                log.append("101 \(String(describing: result { () throws(HTTP1UsageError) in try connection.sendResponseHead(status: 101, reason: "Switching", fields: [("Upgrade", "x")], body: .empty) }))")
            }
        default:
            log.append("\(event)")
        }
    }

    mutating func answer(_ connection: inout HTTP1Connection) {
        guard !answered else { return }
        answered = true
        let body: [UInt8] = Array("ok".utf8)
        let outcome = result { () throws(HTTP1UsageError) in
            try connection.sendResponseHead(status: 200, reason: "OK", fields: [("Server", "f")], body: flags & 32 != 0 ? .unknown : .known(2))
            if !isHead { try connection.sendBody(body) }
            try connection.sendEnd()
        }
        log.append("answer \(outcome)")
    }

    func result(_ body: () throws(HTTP1UsageError) -> Void) -> String {
        do { try body(); return "ok" } catch { return "\(error)" }
    }
}

/// Everything a run produced.
struct Run: Equatable {
    var log: [String]
    var output: [UInt8]
    var consumed: Int
    var error: HTTP1ParseError?
    var closed: Bool
    var upgraded: Bool
}

func run(_ stream: UnsafeRawBufferPointer, flags: UInt8, pieceEnds: [Int]) -> Run {
    var configuration = HTTP1Configuration()
    if flags & 16 != 0 {
        configuration.maxHeadBytes = 200
        configuration.maxFieldCount = 6
        configuration.maxBodyBytes = 300
    }
    let role: HTTP1Connection.Role = flags & 1 != 0 ? .client : .server
    var connection = HTTP1Connection(role: role, configuration: configuration)
    var handler = FuzzHandler(flags: flags)
    var output: [UInt8] = []
    if role == .client {
        // Four requests whose kinds the flags choose, so responses are framed against them.
        for k in 0..<4 {
            let kind = (Int(flags >> 5) + k) % 3
            let method = ["GET", "HEAD", "CONNECT"][kind]
            do throws(HTTP1UsageError) {
                try connection.sendRequestHead(method: method, target: kind == 2 ? "h:1" : "/", fields: [("Host", "h")], body: .empty)
            } catch {
                handler.log.append("request \(error)")
            }
        }
        connection.writeOutput(into: &output)
    }
    var pending: [UInt8] = []
    var given = 0
    var consumedTotal = 0
    var failure: HTTP1ParseError?
    for end in pieceEnds + [stream.count] where end >= given && end <= stream.count {
        pending += stream[given..<end]
        given = end
        var consumed = 0
        var error: HTTP1ParseError?
        pending.withUnsafeBytes { b in
            do throws(HTTP1ParseError) {
                consumed = try connection.receive(b, handler: &handler)
            } catch let thrown {
                error = thrown
            }
        }
        connection.writeOutput(into: &output)
        if let error {
            failure = error
            // Failures stick.
            pending.withUnsafeBytes { b in
                do throws(HTTP1ParseError) {
                    _ = try connection.receive(b, handler: &handler)
                    fuzzCheck(false, "a failed connection received again")
                } catch let again {
                    fuzzCheck(again == error, "failed with \(error), then \(again)")
                }
            }
            fuzzCheck(connection.isClosed, "failed but not closed")
            break
        }
        fuzzCheck(consumed >= 0 && consumed <= pending.count, "consumed \(consumed) of \(pending.count)")
        pending.removeFirst(consumed)
        consumedTotal += consumed
        if connection.isClosed || connection.isUpgraded { break }
    }
    if role == .server && !output.isEmpty {
        fuzzCheck(output.starts(with: "HTTP/1.1 ".utf8), "server output starts with \(escaped(output.prefix(16)))")
    }
    // A throwing receive reports no count: what it consumed before the error depends on the split.
    return Run(log: handler.log, output: output, consumed: failure == nil ? consumedTotal : -1, error: failure,
               closed: connection.isClosed, upgraded: connection.isUpgraded)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let pieceLengths = (0..<Int(input.byte() & 15)).map { _ in Int(input.byte()) + 1 }
    let stream = input.rest()
    var pieceEnds: [Int] = []
    var end = 0
    for length in pieceLengths {
        end += length
        pieceEnds.append(end)
    }
    let whole = run(stream, flags: flags, pieceEnds: [])
    let split = run(stream, flags: flags, pieceEnds: pieceEnds)
    fuzzCheck(whole == split, """
        split changed the run (flags \(flags), pieces ending at \(pieceEnds.prefix(20)))
          whole: \(whole.log.suffix(6)) error \(String(describing: whole.error)) consumed \(whole.consumed)
          split: \(split.log.suffix(6)) error \(String(describing: split.error)) consumed \(split.consumed)
          stream: \(escaped(stream))
        """)
    return 0
}
