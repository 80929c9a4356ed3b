import EpsilonHPACK
import EpsilonHTTP2
@testable import EpsilonHTTPServer
import Testing

/// A peer writing raw frames (as h2spec does) to an ``HTTP2ServerSession`` in memory.
struct H2RawPeer {
    let harness: H2MemoryHarness
    var encoder = HPACKHeaderBlockEncoder()

    /// Opens the connection: preface, SETTINGS (`settings`), and the ACK of the server's.
    init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), settings: [HTTP2SettingsEntry] = []) {
        harness = H2MemoryHarness(configuration: configuration)
        var bytes = HTTP2Connection.clientPreface
        HTTP2FrameEncoder.appendSettings(settings, into: &bytes)
        HTTP2FrameEncoder.appendSettings([], ack: true, into: &bytes)
        harness.sendRaw(bytes)
    }

    mutating func headers(_ stream: UInt32, _ method: String = "GET", path: String, endStream: Bool, extra: [HPACKHeaderField] = []) {
        var block: [UInt8] = []
        encoder.encode([HPACKHeaderField(":method", method), HPACKHeaderField(":scheme", "http"),
                        HPACKHeaderField(":authority", "localhost"), HPACKHeaderField(":path", path)] + extra, into: &block)
        var bytes: [UInt8] = []
        block.withUnsafeBytes { HTTP2FrameEncoder.appendHeaders(streamID: stream, fragment: $0, endStream: endStream, endHeaders: true, into: &bytes) }
        harness.sendRaw(bytes)
    }

    func frames(_ build: (inout [UInt8]) -> Void) {
        var bytes: [UInt8] = []
        build(&bytes)
        harness.sendRaw(bytes)
    }

    /// The code of the RST_STREAM the server sent on `stream`, if any.
    func resetCode(_ stream: UInt32) -> UInt32? {
        guard let frame = harness.serverFrames.last(where: { $0.type == 3 && $0.stream == stream }), frame.payload.count == 4 else { return nil }
        return UInt32(frame.payload[0]) << 24 | UInt32(frame.payload[1]) << 16 | UInt32(frame.payload[2]) << 8 | UInt32(frame.payload[3])
    }

    /// The lengths of the DATA frames the server sent on `stream`.
    func dataLengths(_ stream: UInt32) -> [Int] {
        harness.serverFrames.filter { $0.type == 0 && $0.stream == stream }.map { $0.payload.count }
    }
}

/// RFC 9113 through the whole server session (the cases h2spec runs against a server, where
/// the answer depends on the session and not only on the machine).
@Suite struct RFC9113_5_1_2_ServerStreamConcurrency {
    /// h2spec http2/5.1.2/1: requests answered at once but not finished by the client still
    /// count; the one above the limit is refused.
    @Test func streamsOverTheLimitAreRefusedEvenWhenTheirResponsesEnded() {
        var configuration = HTTPServerConfiguration()
        configuration.maxConcurrentStreams = 2
        var peer = H2RawPeer(configuration: configuration)
        for stream: UInt32 in [1, 3, 5] { peer.headers(stream, path: "/hello", endStream: false) }
        #expect(peer.dataLengths(1) == [13] && peer.dataLengths(3) == [13])
        #expect(peer.resetCode(5) == 7)  // REFUSED_STREAM
        #expect(peer.resetCode(1) == nil && peer.resetCode(3) == nil)
    }
}

@Suite struct RFC9113_6_9_ServerFlowControl {
    /// h2spec http2/6.9.1/1: with an initial window of 1 the response comes 1 octet at a time.
    @Test func initialWindowOfOneGetsOneOctetOfData() {
        var peer = H2RawPeer(settings: [HTTP2SettingsEntry(.initialWindowSize, 1)])
        peer.headers(1, path: "/hello", endStream: true)
        #expect(peer.dataLengths(1) == [1])
    }

    /// h2spec http2/6.9.1/3: a stream window pushed past 2^31-1 on a stream still open (the
    /// response ended, the request did not) is a stream FLOW_CONTROL_ERROR.
    @Test func streamWindowOverflowOnAnAnsweredOpenStreamIsAFlowControlError() {
        var peer = H2RawPeer()
        peer.headers(1, path: "/hello", endStream: false)
        peer.frames { bytes in
            HTTP2FrameEncoder.appendWindowUpdate(streamID: 1, increment: 0x7fff_ffff, into: &bytes)
            HTTP2FrameEncoder.appendWindowUpdate(streamID: 1, increment: 0x7fff_ffff, into: &bytes)
        }
        #expect(peer.resetCode(1) == 3)  // FLOW_CONTROL_ERROR
        #expect(!peer.harness.io.isClosed)
    }

    /// h2spec http2/6.9.2/1: a window opened by SETTINGS_INITIAL_WINDOW_SIZE lets DATA out.
    @Test func raisingTheInitialWindowReleasesWaitingData() {
        var peer = H2RawPeer(settings: [HTTP2SettingsEntry(.initialWindowSize, 0)])
        peer.headers(1, path: "/hello", endStream: true)
        #expect(peer.dataLengths(1).isEmpty)
        peer.frames { HTTP2FrameEncoder.appendSettings([HTTP2SettingsEntry(.initialWindowSize, 5)], into: &$0) }
        #expect(peer.dataLengths(1) == [5])
    }

    /// h2spec http2/6.9.2/2: a window made negative by a smaller initial window, then raised
    /// by WINDOW_UPDATE, lets out exactly what it allows.
    @Test func negativeWindowThenWindowUpdateSendsOnlyTheDifference() {
        var peer = H2RawPeer(settings: [HTTP2SettingsEntry(.initialWindowSize, 3)])
        peer.headers(1, path: "/hello", endStream: true)
        #expect(peer.dataLengths(1) == [3])
        peer.frames { bytes in
            HTTP2FrameEncoder.appendSettings([HTTP2SettingsEntry(.initialWindowSize, 0)], into: &bytes)
            HTTP2FrameEncoder.appendWindowUpdate(streamID: 1, increment: 4, into: &bytes)
        }
        #expect(peer.dataLengths(1) == [3, 1])
    }
}

@Suite struct RFC9113_8_1_ServerMessages {
    /// h2spec http2/8.1/1: a second HEADERS without END_STREAM (trailers must end the
    /// stream) is a stream PROTOCOL_ERROR, also after the response went out.
    @Test func trailersWithoutEndStreamAfterTheResponseAreAProtocolError() {
        var peer = H2RawPeer()
        peer.headers(1, path: "/hello", endStream: false)
        var block: [UInt8] = []
        peer.encoder.encode([HPACKHeaderField("x-trailer", "1")], into: &block)
        peer.frames { bytes in
            block.withUnsafeBytes { HTTP2FrameEncoder.appendHeaders(streamID: 1, fragment: $0, endStream: false, endHeaders: true, into: &bytes) }
        }
        #expect(peer.resetCode(1) == 1)  // PROTOCOL_ERROR
    }

    /// h2spec http2/8.1.2.6/1: DATA shorter than content-length is malformed: RST_STREAM
    /// PROTOCOL_ERROR, and the handler reading the body is cancelled.
    @Test func contentLengthMismatchResetsTheStreamAndAbortsTheHandler() {
        var peer = H2RawPeer()
        peer.headers(1, "POST", path: "/stall", endStream: false, extra: [HPACKHeaderField("content-length", "5")])
        peer.frames { HTTP2FrameEncoder.appendData(streamID: 1, Array("abc".utf8).withUnsafeBytes { $0 }, endStream: true, into: &$0) }
        #expect(peer.resetCode(1) == 1)
        #expect(peer.harness.dispatcher.record.withLock { $0.aborted } == ["/stall"])
        #expect(peer.harness.session.streams.isEmpty)
    }

    /// h2spec http2/5.1/ (half-closed remote): DATA after END_STREAM is STREAM_CLOSED.
    @Test func dataAfterTheRequestEndedIsStreamClosed() {
        var peer = H2RawPeer()
        peer.headers(1, "POST", path: "/stall", endStream: true)
        peer.frames { HTTP2FrameEncoder.appendData(streamID: 1, Array("x".utf8).withUnsafeBytes { $0 }, endStream: false, into: &$0) }
        #expect(peer.resetCode(1) == 5)  // STREAM_CLOSED
        #expect(peer.harness.dispatcher.record.withLock { $0.aborted } == ["/stall"])
    }

    /// A response that ends before the request (answered at its head): the rest of the body
    /// is read and dropped, no RST_STREAM, and the stream closes at the client's END_STREAM.
    @Test func bodyAfterAnEarlyResponseIsDiscardedWithoutReset() {
        var peer = H2RawPeer()
        peer.headers(1, "POST", path: "/nothing", endStream: false)
        let body = [UInt8](repeating: 7, count: 16_384)
        peer.frames { bytes in
            for _ in 0..<3 { body.withUnsafeBytes { HTTP2FrameEncoder.appendData(streamID: 1, $0, endStream: false, into: &bytes) } }
        }
        let head = peer.harness.serverFrames.first { $0.type == 1 && $0.stream == 1 }
        #expect(head.map { $0.flags & 1 == 1 } == true)  // 404 with END_STREAM
        // The dropped octets are credited back at once: half the stream window owed → WINDOW_UPDATE.
        let streamCredit = peer.harness.serverFrames.filter { $0.type == 8 && $0.stream == 1 }
            .map { Int(UInt32($0.payload[0]) << 24 | UInt32($0.payload[1]) << 16 | UInt32($0.payload[2]) << 8 | UInt32($0.payload[3])) }
        #expect(streamCredit.reduce(0, +) >= 32_768)
        #expect(peer.harness.session.streams.count == 1)
        peer.frames { HTTP2FrameEncoder.appendData(streamID: 1, UnsafeRawBufferPointer(start: nil, count: 0), endStream: true, into: &$0) }
        #expect(peer.resetCode(1) == nil)
        #expect(peer.harness.session.streams.isEmpty)
    }
}

@Suite struct RFC9113_6_8_ServerGoaway {
    /// A client's GOAWAY: streams in flight finish, then the server closes.
    @Test func clientGoawayClosesOnceStreamsInFlightFinish() {
        var peer = H2RawPeer()
        peer.headers(1, "POST", path: "/echo", endStream: false)
        peer.frames { HTTP2FrameEncoder.appendGoaway(lastStreamID: 0, code: .noError, into: &$0) }
        #expect(!peer.harness.io.isClosed)
        peer.frames { HTTP2FrameEncoder.appendData(streamID: 1, Array("ok".utf8).withUnsafeBytes { $0 }, endStream: true, into: &$0) }
        #expect(peer.dataLengths(1).reduce(0, +) == 2)
        // The peer closes next; if it does not, the server does a second later.
        #expect(!peer.harness.io.isClosed)
        peer.harness.io.advance(to: peer.harness.io.now + 1_100_000_000)
        #expect(peer.harness.io.isClosed)
    }

    /// h2spec http2/7/2: after a GOAWAY (with an unknown error code) a PING still gets its ACK.
    @Test func pingAfterTheClientsGoawayIsStillAnswered() {
        let peer = H2RawPeer()
        peer.frames { HTTP2FrameEncoder.appendGoaway(lastStreamID: 0, code: HTTP2ErrorCode(rawValue: 0xff), into: &$0) }
        peer.frames { HTTP2FrameEncoder.appendPing(42, ack: false, into: &$0) }
        let ack = peer.harness.serverFrames.last { $0.type == 6 && $0.flags & 1 == 1 }
        #expect(ack?.payload == [0, 0, 0, 0, 0, 0, 0, 42])
        #expect(!peer.harness.io.isClosed)
    }

    /// A connection error: GOAWAY with its code, every exchange aborted, the socket closed.
    @Test func connectionErrorSendsGoawayAbortsAndCloses() {
        var peer = H2RawPeer()
        peer.headers(1, "POST", path: "/stall", endStream: false)
        peer.frames { HTTP2FrameEncoder.appendData(streamID: 0, Array("x".utf8).withUnsafeBytes { $0 }, endStream: false, into: &$0) }
        #expect(peer.harness.goawayCode == 1)
        #expect(peer.harness.io.isClosed)
        #expect(peer.harness.dispatcher.record.withLock { $0.aborted } == ["/stall"])
    }
}
