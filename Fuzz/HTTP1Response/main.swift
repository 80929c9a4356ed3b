// Fuzzes HTTP1Parser(role: .response), told the kind of each request, with arbitrary bytes fed whole.
// Input: 4 scenario bytes (flags, leniencies, request kinds; see HTTP1Scenario), then the
// stream. Checks, besides "no crash": consumed counts and every range stay inside the bytes
// given, progress is made, failures stick.
import EpsilonHTTP1
import FuzzHTTP1Support
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let scenario = HTTP1Scenario(&input)
    _ = transcript(of: input.rest(), role: .response, scenario: scenario)
    return 0
}
