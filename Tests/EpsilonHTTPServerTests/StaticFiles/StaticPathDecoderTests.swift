@testable import EpsilonHTTPServer
import Testing

/// The strict, single decoding of a static route's path: the traversal corpus in memory.
@Suite struct StaticPathDecoderTests {
    enum Want: Sendable, CustomStringConvertible {
        case ok([String], slash: Bool)
        case malformed
        case hidden

        var description: String {
            switch self {
            case .ok(let segments, let slash): "ok \(segments) slash=\(slash)"
            case .malformed: "400"
            case .hidden: "403"
            }
        }
    }

    static let corpus: [(String, Want)] = [
        ("", .ok([], slash: true)),
        ("a.txt", .ok(["a.txt"], slash: false)),
        ("sub/", .ok(["sub"], slash: true)),
        ("sub/page.html", .ok(["sub", "page.html"], slash: false)),
        ("a%20b.txt", .ok(["a b.txt"], slash: false)),
        ("%E2%82%AC.txt", .ok(["€.txt"], slash: false)),
        ("%252e%252e", .ok(["%2e%2e"], slash: false)),
        ("..", .malformed), (".", .malformed), ("sub/..", .malformed), ("../secret.txt", .malformed),
        ("%2e%2e/secret.txt", .malformed), ("%2E%2e", .malformed), (".%2e", .malformed), ("%2e", .malformed),
        ("..%2fsecret.txt", .malformed), ("%2f", .malformed), ("a%2Fb", .malformed),
        ("..%5csecret.txt", .malformed), ("a\\b", .malformed), ("%00", .malformed), ("a.txt%00.html", .malformed),
        ("%0d%0a", .malformed), ("a%7f", .malformed), ("a\u{1}b", .malformed),
        ("%c0%ae%c0%ae", .malformed), ("%c0%af", .malformed), ("%e0%80%ae", .malformed), ("%ed%a0%80", .malformed),
        ("%ff", .malformed), ("%zz", .malformed), ("%", .malformed), ("%2", .malformed), ("%u002e", .malformed),
        ("/secret.txt", .malformed), ("a//b", .malformed), ("a/./b", .malformed), ("....//x", .malformed),
        (".hidden", .hidden), ("sub/.hidden", .hidden), ("%2ehidden", .hidden), ("..;/secret.txt", .hidden),
        (".git/config", .hidden), ("..%252fsecret.txt", .hidden),
    ]

    @Test(arguments: corpus)
    func decodes(_ raw: String, _ want: Want) {
        let got = StaticPathDecoder.decode(Array(raw.utf8), allowHidden: false)
        switch (got, want) {
        case (.success(let path), .ok(let segments, let slash)):
            #expect(path.segments == segments && path.endsWithSlash == slash, "\(raw): \(path)")
        case (.failure(.malformed), .malformed), (.failure(.hidden), .hidden):
            break
        default:
            Issue.record("\(raw): got \(got), want \(want)")
        }
    }

    @Test func hiddenAllowedByOption() {
        let got = StaticPathDecoder.decode(Array(".well-known/x".utf8), allowHidden: true)
        #expect(got == .success(StaticRelativePath(segments: [".well-known", "x"], endsWithSlash: false)))
        // Dot segments stay refused even then.
        #expect(StaticPathDecoder.decode(Array("../x".utf8), allowHidden: true) == .failure(.malformed))
    }
}
