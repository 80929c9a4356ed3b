// Fuzzes HTTP1Parser(role: .request) with arbitrary bytes fed whole.
// Input: 4 scenario bytes (flags, leniencies, request kinds; see HTTP1Scenario), then the
// stream. Checks, besides "no crash": consumed counts and every range stay inside the bytes
// given, request-target splitting stays inside the target, progress is made, failures stick.
import EpsilonHTTP1
import FuzzHTTP1Support
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let scenario = HTTP1Scenario(&input)
    _ = transcript(of: input.rest(), role: .request, scenario: scenario)
    return 0
}
