import EpsilonHTTP2
import Testing

@Suite struct FrameCodecTests {
    @Test func everyEncoderOutputDecodesBack() throws {
        var out: [UInt8] = []
        let body: [UInt8] = Array("hello".utf8)
        body.withUnsafeBytes { HTTP2FrameEncoder.appendData(streamID: 3, $0, endStream: true, padding: 4, into: &out) }
        HTTP2FrameEncoder.appendPing(0x0102030405060708, ack: true, into: &out)
        HTTP2FrameEncoder.appendWindowUpdate(streamID: 5, increment: 1000, into: &out)
        HTTP2FrameEncoder.appendSettings([HTTP2SettingsEntry(.maxFrameSize, 20000), HTTP2SettingsEntry(.enablePush, 0)], into: &out)
        HTTP2FrameEncoder.appendRSTStream(streamID: 7, code: .cancel, into: &out)
        HTTP2FrameEncoder.appendGoaway(lastStreamID: 9, code: .enhanceYourCalm, into: &out)
        let decoder = HTTP2FrameDecoder()
        var kinds: [String] = []
        try out.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                guard let (frame, used) = try decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[offset...])) else {
                    Issue.record("incomplete")
                    return
                }
                offset += used
                switch frame.payload {
                case .data(let data, let padding):
                    #expect(Array(data) == body)
                    #expect(padding?.count == 4)
                    #expect(frame.header.flags.contains(.endStream))
                    kinds.append("data")
                case .ping(let opaque):
                    #expect(opaque == 0x0102030405060708)
                    kinds.append("ping")
                case .windowUpdate(let increment):
                    #expect(increment == 1000 && frame.header.streamID == 5)
                    kinds.append("window")
                case .settings(let view):
                    #expect(Array(view) == [HTTP2SettingsEntry(.maxFrameSize, 20000), HTTP2SettingsEntry(.enablePush, 0)])
                    kinds.append("settings")
                case .rstStream(let code):
                    #expect(code == .cancel)
                    kinds.append("rst")
                case .goaway(let last, let code, let debug):
                    #expect(last == 9 && code == .enhanceYourCalm && debug.isEmpty)
                    kinds.append("goaway")
                default:
                    Issue.record("unexpected frame \(frame.header.type)")
                }
            }
        }
        #expect(kinds == ["data", "ping", "window", "settings", "rst", "goaway"])
    }

    @Test func partialFramesAreIncompleteAndOversizeFramesFailEarly() throws {
        let decoder = HTTP2FrameDecoder()
        let short: [UInt8] = [0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2]
        #expect(try short.withUnsafeBytes { try decoder.decode($0) } == nil)
        // Only the header of a 16 385-octet frame: the size error comes before the payload.
        let big: [UInt8] = [0, 0x40, 0x01, 0, 0, 0, 0, 0, 1]
        #expect(throws: HTTP2FrameError(.frameTooLarge, code: .frameSizeError, streamID: 1)) {
            _ = try big.withUnsafeBytes { try decoder.decode($0) }
        }
    }

    @Test func unknownTypesAndFlagsAreKept() throws {
        let wire: [UInt8] = [0, 0, 2, 0xfa, 0xff, 0, 0, 0, 0, 0xab, 0xcd]
        let decoded = try wire.withUnsafeBytes { bytes -> (UInt8, [UInt8])? in
            guard let (frame, _) = try HTTP2FrameDecoder().decode(bytes), case .unknown(let payload) = frame.payload else { return nil }
            return (frame.header.flags.rawValue, Array(payload))
        }
        #expect(decoded?.0 == 0xff)
        #expect(decoded?.1 == [0xab, 0xcd])
    }
}
