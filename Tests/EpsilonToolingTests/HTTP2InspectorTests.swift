import EpsilonHPACK
import EpsilonHTTP2
import EpsilonTooling
import Foundation
import Testing

@Suite struct HTTP2InspectorTests {
    static let capture: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("Examples/captures/http2-client.bin").path
    }()

    @Test func describesTheCapturedClientStream() throws {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Self.capture)))
        let text = try HTTP2Inspector.describe(bytes)
        #expect(text.hasPrefix("client preface (24 bytes)"))
        #expect(text.contains("HEADERS stream=1"))
        #expect(text.contains("  :path: /upload"))
        #expect(text.contains("  x-checksum: abc123"))
        #expect(text.contains("\"hello, http/2\""))
        #expect(text.contains("HEADERS stream=3"))
        #expect(text.contains("PING stream=0"))
        #expect(text.contains("GOAWAY stream=0"))
    }

    @Test func joinsContinuationsBeforeDecoding() throws {
        var encoder = HPACKHeaderBlockEncoder()
        var block: [UInt8] = []
        encoder.encode([HPACKHeaderField(":status", "200"), HPACKHeaderField("x-long", String(repeating: "z", count: 30))], into: &block)
        var bytes: [UInt8] = []
        block.withUnsafeBytes { all in
            HTTP2FrameEncoder.appendHeaders(streamID: 1, fragment: UnsafeRawBufferPointer(rebasing: all[0..<5]), endStream: true, endHeaders: false, into: &bytes)
            HTTP2FrameEncoder.appendContinuation(streamID: 1, fragment: UnsafeRawBufferPointer(rebasing: all[5...]), endHeaders: true, into: &bytes)
        }
        let text = try HTTP2Inspector.describe(bytes)
        #expect(text.contains("CONTINUATION stream=1"))
        #expect(text.contains("  x-long: " + String(repeating: "z", count: 30)))
    }

    @Test func reportsTheFirstBrokenFrameWithWhatCameBefore() {
        let bytes: [UInt8] = [0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8] + [0, 0, 4, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4]
        do {
            _ = try HTTP2Inspector.describe(bytes)
            Issue.record("expected an error")
        } catch {
            #expect(error.output.contains("#0 PING"))
            #expect(error.output.contains("wrongLength"))
        }
    }
}
