import EpsilonTooling
import Foundation
import Testing

@Suite struct HTTP2FrameConformanceTests {
    static let vectors: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("../shared/vectors/http2").standardizedFileURL.path
    }()

    @Test func everyFrameCasePasses() throws {
        var lines: [String] = []
        let result = try HTTP2FrameConformance.run(folder: Self.vectors) { lines.append($0) }
        print("http2 frame conformance: \(result.passed) passed, \(result.failed) failed")
        #expect(result.passed == 34)
        #expect(result.failed == 0)
        #expect(lines.isEmpty)
    }

    @Test func aWrongExpectationFails() {
        // A DATA frame described with the wrong stream must fail, and an error case that
        // decodes must fail too: the runner can say no.
        let wire: [UInt8] = [0, 0, 1, 0, 0, 0, 0, 0, 1, 0x41]
        #expect(HTTP2FrameConformance.check(wire: wire, frame: ["length": 1, "type": 0, "flags": 0, "stream_identifier": 3], errors: nil) != nil)
        #expect(HTTP2FrameConformance.check(wire: wire, frame: nil, errors: [1]) != nil)
        #expect(HTTP2FrameConformance.check(wire: wire, frame: ["length": 1, "type": 0, "flags": 0, "stream_identifier": 1, "frame_payload": ["data": "A"]], errors: nil) == nil)
    }

    @Test func missingFolderThrows() {
        #expect(throws: HTTP2FrameConformance.RunError.self) {
            _ = try HTTP2FrameConformance.run(folder: "/nonexistent-http2") { _ in }
        }
    }
}
