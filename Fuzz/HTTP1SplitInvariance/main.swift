// Property: any split of a stream gives the same events (DESIGN.md, "Rules for a protocol
// machine"). The same stream is parsed whole and in fuzzer-chosen pieces; the transcripts,
// with every range made absolute and adjacent body pieces merged, must be equal, errors
// (rule and offset) and the end-of-stream result included.
// Input: 4 scenario bytes (see HTTP1Scenario; flag bit 2 picks the response role, bit 3 feeds
// one byte at a time), a count byte (0–15) and that many piece lengths (1–256), the stream.
import EpsilonHTTP1
import FuzzHTTP1Support
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.bytes.first ?? 0
    let scenario = HTTP1Scenario(&input)
    let role: HTTP1Parser.Role = flags & 4 != 0 ? .response : .request
    let pieceLengths = (0..<Int(input.byte() & 15)).map { _ in Int(input.byte()) + 1 }
    let stream = input.rest()

    var pieceEnds: [Int] = []
    if flags & 8 != 0 {
        pieceEnds = Array(1...max(1, stream.count))
    } else {
        var end = 0
        for length in pieceLengths {
            end += length
            pieceEnds.append(end)
        }
    }
    let whole = transcript(of: stream, role: role, scenario: scenario)
    let split = transcript(of: stream, role: role, scenario: scenario, pieceEnds: pieceEnds)
    if whole != split {
        let firstDifference = (0..<min(whole.count, split.count)).first { whole[$0] != split[$0] } ?? min(whole.count, split.count)
        fuzzCheck(false, """
            split changed the events at record \(firstDifference) (role \(role), pieces ending at \(pieceEnds.prefix(20)))
              whole: \(whole[firstDifference...].prefix(4))
              split: \(split[firstDifference...].prefix(4))
              stream: \(escaped(stream))
            """)
    }
    return 0
}
