import EpsilonHTTP1
import FuzzSupport

/// One thing an ``HTTP1Parser`` reported, with every range made absolute (an offset in the
/// whole stream), so transcripts of the same stream fed in different pieces compare equal.
public enum HTTP1Record: Equatable, CustomStringConvertible {
    /// A head, with its fields.
    case head(HTTP1Head, fields: [HTTP1Field])
    case expectContinue
    /// Body bytes; adjacent pieces are merged.
    case body(Range<Int>)
    case chunkHeader(size: UInt64, extensions: Range<Int>)
    case chunkEnd
    case trailers(fields: [HTTP1Field])
    case end
    case upgrade
    /// `parse` threw.
    case failed(HTTP1ParseError)
    /// What `finish()` returned once the stream ran out.
    case finished(HTTP1Event?)

    public var description: String {
        switch self {
        case .head(let head, let fields):
            return "head(\(head), fields: \(fields.map { "\($0.name)=\($0.value)" }))"
        case .expectContinue: return "expectContinue"
        case .body(let range): return "body(\(range))"
        case .chunkHeader(let size, let extensions): return "chunkHeader(\(size), \(extensions))"
        case .chunkEnd: return "chunkEnd"
        case .trailers(let fields): return "trailers(\(fields.map { "\($0.name)=\($0.value)" }))"
        case .end: return "end"
        case .upgrade: return "upgrade"
        case .failed(let error): return "failed(\(error))"
        case .finished(let event): return "finished(\(event.map { "\($0)" } ?? "nil"))"
        }
    }
}

/// Configurations and feeding choices decoded from the first bytes of a fuzz input.
public struct HTTP1Scenario {
    /// The parser's configuration.
    public var configuration: HTTP1Configuration
    /// Call `declineUpgrade()` after an upgrade and go on parsing, instead of stopping.
    public var declineUpgrades: Bool
    /// For a response parser: the request kind announced before each response, in turn.
    public var requestKinds: [HTTP1Parser.RequestKind]

    /// Decodes four bytes: flags (bit 0 small limits, bit 1 decline upgrades), two bytes of
    /// leniencies, and the kinds of four requests (two bits each: ordinary, head, connect).
    public init(_ input: inout FuzzInput) {
        let flags = input.byte()
        var configuration = HTTP1Configuration(leniencies: HTTP1Leniencies(rawValue: UInt32(input.uint16())).intersection(.all))
        if flags & 1 != 0 {
            // Small limits, so that the limit checks are reached by short inputs.
            configuration.maxHeadBytes = 200
            configuration.maxFieldCount = 6
            configuration.maxTargetBytes = 40
            configuration.maxChunkLineBytes = 24
            configuration.maxBodyBytes = 300
        }
        self.configuration = configuration
        declineUpgrades = flags & 2 != 0
        let kinds = input.byte()
        requestKinds = (0..<4).map { k in
            switch kinds >> (2 * k) & 3 {
            case 1: .head
            case 2: .connect
            default: .ordinary
            }
        }
    }
}

/// Feeds a whole stream to a parser in pieces and records every event, checking on the way
/// what must hold after any call: the consumed count fits the buffer, ranges lie inside the
/// bytes consumed, the parser makes progress, and a failed parser stays failed.
///
/// - Parameters:
///   - stream: all the bytes of the connection.
///   - pieceEnds: ascending offsets where a new piece of the stream arrives; bytes up to the
///     first are available at once, the last piece ends at the end of the stream.
public func transcript(
    of stream: UnsafeRawBufferPointer, role: HTTP1Parser.Role, scenario: HTTP1Scenario,
    pieceEnds: [Int] = []
) -> [HTTP1Record] {
    var parser = HTTP1Parser(role: role, configuration: scenario.configuration)
    var records: [HTTP1Record] = []
    var consumed = 0
    var available = min(pieceEnds.first ?? stream.count, stream.count)
    var nextPiece = 1
    var stepsWithoutProgress = 0
    var responses = 0
    if role == .response { parser.expectResponse(to: scenario.requestKinds[0]) }

    func record(_ new: HTTP1Record) {
        if case .body(let range) = new, case .body(let previous)? = records.last, previous.upperBound == range.lowerBound {
            records[records.count - 1] = .body(previous.lowerBound..<range.upperBound)
        } else {
            records.append(new)
        }
    }
    func shifted(_ fields: [HTTP1Field], by base: Int, within limit: Int) -> [HTTP1Field] {
        fields.map { field in
            fuzzCheck(field.name.upperBound <= limit && field.value.upperBound <= limit && field.name.lowerBound >= 0,
                      "field \(field) outside the \(limit) bytes consumed")
            return HTTP1Field(name: field.name.lowerBound + base..<field.name.upperBound + base,
                              value: field.value.lowerBound + base..<field.value.upperBound + base)
        }
    }

    while true {
        let window = UnsafeRawBufferPointer(rebasing: stream[consumed..<available])
        let step: HTTP1Step
        do {
            step = try parser.parse(window)
        } catch {
            record(.failed(error))
            fuzzCheck(error.offset >= consumed && error.offset <= available,
                      "error offset \(error.offset) outside the bytes given (\(consumed)..<\(available))")
            do {
                _ = try parser.parse(window)
                fuzzCheck(false, "a failed parser parsed again")
            } catch let again {
                fuzzCheck(again == error, "a failed parser threw \(again), then \(error)")
            }
            return records
        }
        let n = step.consumed
        fuzzCheck(n >= 0 && n <= window.count, "consumed \(n) of \(window.count) bytes")
        switch step.event {
        case .needMoreData:
            break
        case .head(var head):
            // Empty lines before the head (RFC 9112 §2.2) are consumed with it.
            fuzzCheck(head.length <= n, "head length \(head.length), consumed \(n)")
            for i in 0..<(n - head.length) {
                fuzzCheck(window[i] == 0x0D || window[i] == 0x0A, "byte \(i) before the head is not CR or LF")
            }
            for range in [head.method, head.target, head.reason] {
                fuzzCheck(range.lowerBound >= 0 && range.upperBound <= n, "head range \(range) outside \(n) bytes")
            }
            if role == .request {
                fuzzCheck(!head.method.isEmpty && !head.target.isEmpty, "request head without method or target")
                let isConnect = window[head.method].elementsEqual("CONNECT".utf8)
                if let parts = try? HTTP1RequestTarget.split(window, head.target, isConnect: isConnect) {
                    for part in [parts.scheme, parts.authority, parts.path, parts.query, parts.fragment] {
                        if let part {
                            fuzzCheck(head.target.lowerBound <= part.lowerBound && part.upperBound <= head.target.upperBound,
                                      "target part \(part) outside the target \(head.target)")
                        }
                    }
                }
            }
            let fields = shifted(parser.fields, by: consumed, within: n)
            head.method = head.method.lowerBound + consumed..<head.method.upperBound + consumed
            head.target = head.target.lowerBound + consumed..<head.target.upperBound + consumed
            head.reason = head.reason.lowerBound + consumed..<head.reason.upperBound + consumed
            record(.head(head, fields: fields))
        case .expectContinue:
            record(.expectContinue)
        case .body(let range):
            fuzzCheck(range == 0..<n && n > 0, "body \(range) with \(n) bytes consumed")
            record(.body(consumed..<consumed + n))
        case .chunkHeader(let size, let extensions):
            fuzzCheck(extensions.lowerBound >= 0 && extensions.upperBound <= n, "extensions \(extensions) outside \(n) bytes")
            record(.chunkHeader(size: size, extensions: extensions.lowerBound + consumed..<extensions.upperBound + consumed))
        case .chunkEnd:
            record(.chunkEnd)
        case .trailers:
            record(.trailers(fields: shifted(parser.fields, by: consumed, within: n)))
        case .end:
            record(.end)
            if role == .response {
                responses += 1
                parser.expectResponse(to: scenario.requestKinds[responses % scenario.requestKinds.count])
            }
        case .upgrade:
            record(.upgrade)
        }
        consumed += n
        fuzzCheck(parser.consumedBytes == consumed, "consumedBytes \(parser.consumedBytes), consumed \(consumed)")

        if step.event == .needMoreData && n == 0 {
            stepsWithoutProgress = 0
            guard available < stream.count else { break }
            available = nextPiece < pieceEnds.count ? max(available, min(pieceEnds[nextPiece], stream.count)) : stream.count
            nextPiece += 1
            continue
        }
        if step.event == .upgrade {
            guard scenario.declineUpgrades else { return records }
            parser.declineUpgrade()
        }
        stepsWithoutProgress = n == 0 ? stepsWithoutProgress + 1 : 0
        fuzzCheck(stepsWithoutProgress < 16, "16 events in a row consumed nothing: \(records.suffix(16))")
    }
    do {
        record(.finished(try parser.finish()))
    } catch {
        record(.failed(error))
    }
    return records
}
