import EpsilonHPACK
import EpsilonHTTP2
@testable import EpsilonHTTPServer
import Testing

/// Requests and responses through ``HTTP2ServerSession`` in memory, against a client-role
/// ``HTTP2Connection``.
@Suite struct H2SessionStreamTests {
    @Test func answersHelloWithDateServerAndLengthEndingOnTheLastData() {
        let harness = H2MemoryHarness()
        let stream = harness.request(path: "/hello")
        harness.run()
        let response = harness.response(stream)
        #expect(H2MemoryHarness.value(":status", in: response.head) == "200")
        #expect(H2MemoryHarness.value("content-length", in: response.head) == "13")
        #expect(H2MemoryHarness.value("content-type", in: response.head) == "text/plain")
        #expect(H2MemoryHarness.value("server", in: response.head) == "epsilon")
        #expect(H2MemoryHarness.value("date", in: response.head)?.hasSuffix(" GMT") == true)
        #expect(response.body == Array("Hello, World!".utf8))
        #expect(response.ended)
        // One DATA frame carrying END_STREAM: no empty DATA frame after it.
        let data = harness.serverFrames.filter { $0.type == 0 && $0.stream == stream }
        #expect(data.count == 1 && data[0].flags & 1 == 1)
        #expect(harness.session.streams.count == 0)
    }

    @Test func headIsAnsweredWithoutBody() {
        let harness = H2MemoryHarness()
        let stream = harness.request("HEAD", "/hello")
        harness.run()
        let response = harness.response(stream)
        #expect(H2MemoryHarness.value(":status", in: response.head) == "200")
        #expect(H2MemoryHarness.value("content-length", in: response.head) == "13")
        #expect(response.body.isEmpty && response.ended)
        #expect(!harness.serverFrames.contains { $0.type == 0 })
    }

    @Test func unknownPathIs404() {
        let harness = H2MemoryHarness()
        let stream = harness.request(path: "/nothing")
        harness.run()
        #expect(H2MemoryHarness.value(":status", in: harness.response(stream).head) == "404")
        #expect(harness.response(stream).ended)
    }

    /// Several streams on one connection at once: 0 B, 1 MiB echoed, and a streamed body with
    /// trailers, each checked byte for byte.
    @Test func servesSeveralStreamsWithEmptyLargeAndStreamedBodies() {
        let harness = H2MemoryHarness()
        let empty = harness.request("POST", "/echo", endStream: false)
        harness.send(empty, [], end: true)
        let large = harness.request("POST", "/echo", endStream: false)
        let streamed = harness.request(path: "/stream/300000")
        let bytes = H2MemoryHarness.body(1 << 20)
        var offset = 0
        var rounds = 0
        while offset < bytes.count && rounds < 10_000 {
            let sent = harness.send(large, Array(bytes[offset...]), end: true)
            #expect(sent >= 0)
            offset += max(sent, 0)
            harness.run()
            rounds += 1
        }
        harness.run()
        #expect(offset == bytes.count)
        let echoedEmpty = harness.response(empty)
        #expect(H2MemoryHarness.value(":status", in: echoedEmpty.head) == "200" && echoedEmpty.body.isEmpty && echoedEmpty.ended)
        let echoed = harness.response(large)
        #expect(echoed.ended)
        #expect(byteMismatch(echoed.body, bytes) == nil)
        let stream = harness.response(streamed)
        #expect(stream.ended && stream.body.count == 300_000)
        #expect(byteMismatch(stream.body, (0..<300_000).map { UInt8(truncatingIfNeeded: $0) }) == nil)
        #expect(H2MemoryHarness.value("content-length", in: stream.head) == nil)
        #expect(stream.trailers == [HPACKHeaderField("x-count", "300000")])
        #expect(harness.session.streams.count == 0)
    }

    /// An exchange returned after its response already ended hears the abort; the body is
    /// dropped without RST_STREAM and the stream ends with the client's END_STREAM.
    @Test func exchangeReturnedAfterAnInlineAnswerIsAbortedAndTheBodyDropped() {
        let harness = H2MemoryHarness()
        let stream = harness.request("POST", "/early", endStream: false)
        harness.run()
        #expect(H2MemoryHarness.value(":status", in: harness.response(stream).head) == "204")
        #expect(harness.dispatcher.record.withLock { $0.aborted } == ["/early"])
        harness.send(stream, H2MemoryHarness.body(1000), end: true)
        harness.run()
        #expect(harness.dispatcher.record.withLock { $0.bodyBytes["/early"] } == nil)
        #expect(harness.response(stream).reset == nil)
        #expect(harness.session.streams.isEmpty)
    }

    @Test func requestTrailersReachTheExchange() {
        let harness = H2MemoryHarness()
        let stream = harness.request("POST", "/echo", endStream: false)
        harness.send(stream, Array("abc".utf8), end: false)
        _ = try? harness.client.sendTrailers(streamID: stream, [HPACKHeaderField("x-sum", "3")])
        harness.run()
        #expect(harness.response(stream).body == Array("abc".utf8))
        #expect(harness.dispatcher.record.withLock { $0.trailers["/echo"] } == ["x-sum: 3"])
    }

    @Test func tooManyFieldsIs431AndDeclaredTooLargeBodyIs413() {
        var configuration = HTTPServerConfiguration()
        configuration.maxHeaderCount = 3
        configuration.maxBodyBytes = 10
        let harness = H2MemoryHarness(configuration: configuration)
        let many = harness.request(path: "/hello", extra: (0..<4).map { HPACKHeaderField("x-f\($0)", "v") })
        let large = harness.request("POST", "/echo", endStream: false, extra: [HPACKHeaderField("content-length", "11")])
        harness.run()
        #expect(H2MemoryHarness.value(":status", in: harness.response(many).head) == "431")
        #expect(H2MemoryHarness.value(":status", in: harness.response(large).head) == "413")
        // The client is told to stop sending the refused body.
        #expect(harness.response(large).reset == .noError)
        #expect(harness.dispatcher.record.withLock { $0.paths }.isEmpty)
    }

    @Test func streamedBodyPastTheLimitIs413AndAbortsTheExchange() {
        var configuration = HTTPServerConfiguration()
        configuration.maxBodyBytes = 1000
        let harness = H2MemoryHarness(configuration: configuration)
        let stream = harness.request("POST", "/stall", endStream: false)
        harness.send(stream, H2MemoryHarness.body(600), end: false)
        harness.run()
        harness.send(stream, H2MemoryHarness.body(600), end: false)
        harness.run()
        #expect(H2MemoryHarness.value(":status", in: harness.response(stream).head) == "413")
        #expect(harness.dispatcher.record.withLock { $0.aborted } == ["/stall"])
        #expect(harness.session.streams.count == 0)
    }

    @Test func pushPromisesAndServesTheResourceWhenThePeerAllowsIt() {
        var client = HTTP2Configuration()
        client.enablePush = true
        let harness = H2MemoryHarness(client: client)
        let stream = harness.request(path: "/push")
        harness.run()
        #expect(harness.dispatcher.record.withLock { $0.pushResults } == ["pushed 2"])
        let promise = harness.events.first { if case .pushPromise = $0 { true } else { false } }
        guard case .pushPromise(stream, 2, let request)? = promise else {
            Issue.record("no PUSH_PROMISE: \(harness.events)")
            return
        }
        #expect(H2MemoryHarness.value(":path", in: request) == "/hello")
        #expect(H2MemoryHarness.value(":authority", in: request) == "localhost")
        #expect(harness.response(2).body == Array("Hello, World!".utf8) && harness.response(2).ended)
        #expect(harness.response(stream).body == Array("pushed".utf8))
    }

    @Test func pushIsRefusedWhenThePeerDisabledIt() {
        let harness = H2MemoryHarness()  // the client machine's default: SETTINGS_ENABLE_PUSH 0
        let stream = harness.request(path: "/push")
        harness.run()
        #expect(harness.dispatcher.record.withLock { $0.pushResults } == ["disabledByPeer"])
        #expect(harness.response(stream).body == Array("pushed".utf8))
        #expect(!harness.serverFrames.contains { $0.type == 5 })
    }
}
