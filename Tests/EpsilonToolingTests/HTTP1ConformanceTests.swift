import EpsilonHTTP1
@testable import EpsilonTooling
import Foundation
import Testing

/// The llhttp spec vectors in ../shared/vectors/http1, through the same runner as
/// `epsilon-conformance http1`.
@Suite struct HTTP1ConformanceTests {
    static let vectors = "../shared/vectors/http1"
    static let expectations = "Conformance/http1-llhttp-differences.txt"

    @Test func everyLLHTTPVectorPassesOrIsAListedDifference() throws {
        let known = try HTTP1Conformance.loadKnownDifferences(path: Self.expectations)
        var failures: [String] = []
        let summary = try HTTP1Conformance.run(folder: Self.vectors, knownDifferences: known) { failures.append($0) }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(summary.failed == 0)
        #expect(summary.unexpectedlyPassing.isEmpty, "listed differences that pass now: \(summary.unexpectedlyPassing)")
        #expect(summary.passed >= 190)
        let total = summary.passed + summary.knownDifferences
        #expect(Double(summary.knownDifferences) < 0.05 * Double(total), "the list of differences stays under 5%")
    }

    @Test func runnerCatchesAWrongExpectation() throws {
        let spec = """
        ## A case with a wrong offset

        <!-- meta={"type": "request"} -->
        ```http
        GET / HTTP/1.1


        ```

        ```log
        off=0 message begin
        off=0 len=3 span[method]="GET"
        off=3 method complete
        off=4 len=1 span[url]="/"
        off=6 url complete
        off=6 len=4 span[protocol]="HTTP"
        off=10 protocol complete
        off=11 len=3 span[version]="1.1"
        off=14 version complete
        off=19 headers complete method=1 v=1/1 flags=0 content_length=0
        off=18 message complete
        ```
        """
        let cases = LLHTTPSpecFile.cases(in: spec, file: "inline.md")
        #expect(cases.count == 1)
        #expect(HTTP1Conformance.check(cases[0]) != nil, "a wrong headers-complete offset must fail the case")
        let fixed = cases[0].log.map { $0.replacingOccurrences(of: "off=19 headers", with: "off=18 headers") }
        var good = cases[0]
        good.log = fixed
        #expect(HTTP1Conformance.check(good) == nil)
    }

    @Test func errorCasesPassOnlyWhenRejectedAtOrBeforeTheOffset() {
        let accepted = LLHTTPSpecCase(name: "e", file: "f", kind: "http", type: "request", noScan: true, skipBody: false,
                                      input: Array("GET / HTTP/1.1\r\n\r\n".utf8), log: ["off=3 error code=6 reason=\"x\""])
        #expect(HTTP1Conformance.check(accepted) != nil, "valid input where an error is expected must fail")
    }

    @Test func inputEscapesAndContinuationsDecodeLikeLLHTTP() {
        let lines = ["GET / HTTP/1.1", "X: a\\tb\\n\\", "\\xff", ""]
        let decoded = LLHTTPSpecFile.decodeInput(lines, kind: "http")
        #expect(decoded == Array("GET / HTTP/1.1\r\nX: a\tb\n".utf8) + [0xC3, 0xBF] + Array("\r\n".utf8))
    }
}

/// Any split of a stream gives the same events: every vector, split at every position
/// (two pieces) and at 1,000 random three-piece splits where the input is long enough.
@Suite struct HTTP1SplitInvariance {
    static let cases: [LLHTTPSpecCase] = {
        LLHTTPSpecFile.specFiles(under: HTTP1ConformanceTests.vectors).flatMap { file in
            let text = (try? String(contentsOfFile: HTTP1ConformanceTests.vectors + "/" + file, encoding: .utf8)) ?? ""
            return LLHTTPSpecFile.cases(in: text, file: file).filter { $0.kind == "http" }
        }
    }()

    static func trace(_ specCase: LLHTTPSpecCase, cuts: [Int]) -> [String] {
        let (role, configuration) = HTTP1Conformance.configuration(forType: specCase.type)
        var recorder = HTTP1TraceRecorder(parser: HTTP1Parser(role: role, configuration: configuration), skipBody: specCase.skipBody)
        var start = 0
        for end in cuts + [specCase.input.count] where end >= start {
            recorder.feed(specCase.input[start..<end])
            start = end
        }
        if specCase.type.hasSuffix("-finish") { recorder.finish() }
        return mergeBodySpans(recorder.lines)
    }

    @Test func thereAreVectorsToSplit() {
        #expect(Self.cases.count >= 170)
    }

    @Test func everySplitGivesTheSameEvents() {
        var generator = SystemRandomNumberGenerator()
        var checked = 0
        for specCase in Self.cases {
            let whole = Self.trace(specCase, cuts: [])
            let n = specCase.input.count
            for cut in 0...n {
                let split = Self.trace(specCase, cuts: [cut])
                if split != whole {
                    Issue.record("\(specCase.file) :: \(specCase.name) split at \(cut): \(split) vs \(whole)")
                    break
                }
                checked += 1
            }
            if n > 45 {
                for _ in 0..<1_000 {
                    let cuts = [Int.random(in: 0...n, using: &generator), Int.random(in: 0...n, using: &generator)].sorted()
                    let split = Self.trace(specCase, cuts: cuts)
                    if split != whole {
                        Issue.record("\(specCase.file) :: \(specCase.name) split at \(cuts)")
                        break
                    }
                    checked += 1
                }
            }
        }
        #expect(checked > 100_000)
    }
}
