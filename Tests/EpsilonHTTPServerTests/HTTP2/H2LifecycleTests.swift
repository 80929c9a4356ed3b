import EpsilonHPACK
import EpsilonHTTP2
@testable import EpsilonHTTPServer
import Testing

/// Resets, GOAWAY, limits and timers of the HTTP/2 session.
@Suite struct H2LifecycleTests {
    @Test func rstStreamAbortsTheExchange() {
        let harness = H2MemoryHarness()
        let stream = harness.request("POST", "/stall", endStream: false)
        harness.send(stream, H2MemoryHarness.body(100), end: false)
        harness.run()
        #expect(harness.dispatcher.record.withLock { $0.aborted }.isEmpty)
        _ = try? harness.client.resetStream(streamID: stream, code: .cancel)
        harness.run()
        #expect(harness.dispatcher.record.withLock { $0.aborted } == ["/stall"])
        #expect(harness.session.streams.count == 0)
        // The unread 100 bytes went back to the connection window.
        #expect(harness.client.connectionSendWindowSize >= 65_535 - 100)
    }

    @Test func gracefulShutdownSendsGoawayLetsInFlightStreamsFinishThenCloses() {
        let harness = H2MemoryHarness()
        let stream = harness.request("POST", "/echo", endStream: false)
        harness.send(stream, Array("first".utf8), end: false)
        harness.run()
        harness.io.drain()
        harness.run()
        let goaways = harness.serverFrames.filter { $0.type == 7 }
        // §6.8: first GOAWAY with 2^31-1 and a PING, then (PING acknowledged) the real last id.
        #expect(goaways.count == 2)
        #expect(goaways.last.map { Array($0.payload[0..<4]) } == [0, 0, 0, 1])
        #expect(!harness.io.isClosed)
        harness.send(stream, Array("second".utf8), end: true)
        harness.run()
        #expect(harness.response(stream).body == Array("firstsecond".utf8))
        #expect(harness.response(stream).ended)
        #expect(harness.io.isClosed)
    }

    @Test func drainWithNoStreamClosesAfterThePingAnswer() {
        let harness = H2MemoryHarness()
        harness.run()
        harness.io.drain()
        harness.run()
        #expect(harness.io.isClosed)
        #expect(harness.goawayCode == 0)
    }

    @Test func announcesMaxConcurrentStreamsAndRefusesStreamsAboveIt() {
        var configuration = HTTPServerConfiguration()
        configuration.maxConcurrentStreams = 2
        let harness = H2MemoryHarness(configuration: configuration)
        harness.request("POST", "/stall", endStream: false)
        harness.request("POST", "/stall", endStream: false)
        harness.run()
        #expect(harness.client.peerSettings.maxConcurrentStreams == 2)
        // A peer that ignores the setting gets REFUSED_STREAM (RFC 9113 §5.1.2).
        var block: [UInt8] = []
        var encoder = HPACKHeaderBlockEncoder()
        encoder.encode([HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"),
                        HPACKHeaderField(":path", "/hello"), HPACKHeaderField(":authority", "x")], into: &block)
        var frames: [UInt8] = []
        block.withUnsafeBytes { HTTP2FrameEncoder.appendHeaders(streamID: 5, fragment: $0, endStream: true, endHeaders: true, into: &frames) }
        harness.sendRaw(frames)
        let reset = harness.serverFrames.last { $0.type == 3 && $0.stream == 5 }
        #expect(reset?.payload == [0, 0, 0, 7])  // REFUSED_STREAM
    }

    @Test func requestsPerConnectionEndWithGoawayAndClose() {
        var configuration = HTTPServerConfiguration()
        configuration.maxRequestsPerConnection = 3
        let harness = H2MemoryHarness(configuration: configuration)
        for _ in 0..<3 {
            harness.request(path: "/hello")
            harness.run()
        }
        #expect(!harness.io.isClosed)
        let fourth = harness.request(path: "/hello")
        harness.run()
        #expect(harness.response(fourth).reset == .refusedStream)
        #expect(harness.serverFrames.contains { $0.type == 7 })
        #expect(harness.io.isClosed)
    }

    @Test func idleConnectionGetsGoawayAtTheIdleTimeout() {
        var configuration = HTTPServerConfiguration()
        configuration.idleTimeout = .seconds(5)
        let harness = H2MemoryHarness(configuration: configuration)
        harness.request(path: "/hello")
        harness.run()
        let start = harness.io.now
        harness.io.advance(to: start + 4_000_000_000)
        #expect(!harness.io.isClosed)
        // The timer re-arms itself as it fires; give it a few turns past the deadline.
        for step in 5...8 { harness.io.advance(to: start + UInt64(step) * 1_000_000_000) }
        harness.sendRaw([])
        #expect(harness.io.isClosed)
        #expect(harness.goawayCode == 0)
    }

    @Test func silentConnectionIsClosedAtTheSilentTimeout() {
        var configuration = HTTPServerConfiguration()
        configuration.silentTimeout = .seconds(2)
        let harness = H2MemoryHarness(configuration: configuration)
        harness.io.advance(to: harness.io.now + 3_000_000_000)
        #expect(harness.io.isClosed)
    }

    @Test func badPrefaceIsGoawayProtocolErrorAndClose() {
        let harness = H2MemoryHarness()
        harness.sendRaw(Array("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".utf8))
        #expect(harness.goawayCode == 1)
        #expect(harness.io.isClosed)
    }

    @Test func connectionCloseAbortsEveryOpenExchange() {
        let harness = H2MemoryHarness()
        harness.request("POST", "/stall", endStream: false)
        harness.request("POST", "/echo", endStream: false)
        harness.run()
        harness.session.closed()
        #expect(harness.dispatcher.record.withLock { $0.aborted }.sorted() == ["/echo", "/stall"])
    }

    @Test func peerEndOfStreamAbortsUnfinishedRequestsAndCloses() {
        let harness = H2MemoryHarness()
        harness.request("POST", "/stall", endStream: false)
        harness.run()
        harness.io.receiveEndOfStream()
        #expect(harness.dispatcher.record.withLock { $0.aborted } == ["/stall"])
        #expect(harness.io.isClosed)
    }
}
