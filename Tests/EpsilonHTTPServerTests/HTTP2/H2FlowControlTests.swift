import EpsilonHPACK
import EpsilonHTTP2
@testable import EpsilonHTTPServer
import Testing

/// Flow control both ways follows the application: a handler that stops reading stops the
/// peer; a peer that stops reading (or a full write queue) stops the handler.
@Suite struct H2FlowControlTests {
    @Test func handlerThatStopsReadingClosesTheStreamWindowAndTheServerHoldsAtMostIt() {
        let harness = H2MemoryHarness()
        let stalled = harness.request("POST", "/stall", endStream: false)
        let bytes = H2MemoryHarness.body(1 << 20)
        var offset = 0
        for _ in 0..<100 {
            let sent = harness.send(stalled, Array(bytes[offset...]), end: false)
            offset += max(sent, 0)
            harness.run()
            if sent <= 0 { break }
        }
        let window = HTTP2ServerSession.machineConfiguration(HTTPServerConfiguration()).initialWindowSize
        // The peer can send no more: the stream's window is used up and never credited.
        #expect(harness.client.sendWindow(streamID: stalled) == 0)
        #expect(offset == window)
        #expect(harness.dispatcher.record.withLock { $0.bodyBytes["/stall"] } == window)
        #expect(harness.session.streams[stalled]?.unconsumed == window)
        // Other streams still flow: the connection window has room for more than one stall.
        let hello = harness.request(path: "/hello")
        harness.run()
        #expect(harness.response(hello).body == Array("Hello, World!".utf8))
    }

    @Test func consumedBytesAreCreditedBack() {
        let harness = H2MemoryHarness()
        let stream = harness.request("POST", "/echo", endStream: false)
        let bytes = H2MemoryHarness.body(300_000)
        var offset = 0
        for _ in 0..<1000 where offset < bytes.count {
            offset += max(harness.send(stream, Array(bytes[offset...]), end: true), 0)
            harness.run()
        }
        #expect(offset == bytes.count)
        #expect(byteMismatch(harness.response(stream).body, bytes) == nil)
        let updates = harness.serverFrames.filter { $0.type == 8 && $0.stream == stream }
        #expect(!updates.isEmpty)
    }

    @Test func responseWaitsForThePeersWindowAndResumesOnWindowUpdate() {
        var client = HTTP2Configuration()
        client.initialWindowSize = 1000
        client.windowReplenishment = .manual
        let harness = H2MemoryHarness(client: client)
        let stream = harness.request(path: "/bytes/5000")
        harness.run()
        #expect(harness.response(stream).body.count == 1000)
        #expect(!harness.response(stream).ended)
        #expect((harness.session.streams[stream]?.pendingCount ?? 0) == 4000)
        harness.client.consume(streamID: stream, count: 1000)
        harness.run()
        #expect(harness.response(stream).body.count == 2000)
        for _ in 0..<10 {
            harness.client.consume(streamID: stream, count: 1000)
            harness.run()
        }
        let response = harness.response(stream)
        #expect(response.ended)
        #expect(byteMismatch(response.body, (0..<5000).map { UInt8(truncatingIfNeeded: $0) }) == nil)
    }

    @Test func aFullWriteQueueStopsDataAndTheWriterWaits() {
        let harness = H2MemoryHarness(writeHighWatermark: 1000)
        harness.io.simulatedPendingBytes = 5000  // the peer is not reading
        let stream = harness.request(path: "/bytes/200000")
        harness.run()
        #expect(!harness.serverFrames.contains { $0.type == 0 })
        let pending = harness.session.streams[stream]?.pendingCount ?? 0
        // The writer stopped at the session's bound (plus at most one 16 KiB write).
        #expect(pending >= HTTP2ServerSession.streamBufferLimit && pending < HTTP2ServerSession.streamBufferLimit + 16 * 1024)
        #expect(harness.session.writableBytes(HTTPExchangeID(UInt64(stream))) == 0)
        harness.io.simulatedPendingBytes = 0
        harness.session.writabilityChanged(isWritable: true)
        harness.run()
        let response = harness.response(stream)
        #expect(response.ended && response.body.count == 200_000)
    }
}
