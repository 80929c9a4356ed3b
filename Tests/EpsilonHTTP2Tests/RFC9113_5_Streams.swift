import EpsilonHPACK
import EpsilonHTTP2
import Testing

/// RFC 9113 §5.1: stream states, each violation with its error kind and code.
@Suite struct RFC9113_5_1_StreamStates {
    @Test func idle_dataIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.data(1, [1])), .protocolError)
    }

    @Test func idle_rstStreamIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.rst(1)), .protocolError)
    }

    @Test func idle_windowUpdateIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.windowUpdate(1, 100)), .protocolError)
    }

    @Test func idle_continuationIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.continuation(1, Wire.block(Wire.request), endHeaders: true)), .protocolError)
    }

    @Test func idle_priorityIsAllowed() {
        var harness = ServerHarness()
        let reaction = harness.send(Wire.priority(3, dependsOn: 0))
        expectAccepted(reaction)
        #expect(reaction.events == [.priority(streamID: 3, HTTP2PriorityFields(exclusive: false, dependency: 0, weight: 15))])
    }

    @Test func idle_headersOpensTheStream() {
        var harness = ServerHarness()
        let reaction = harness.send(Wire.headers(1, endStream: false))
        expectAccepted(reaction)
        #expect(reaction.events == [.headers(streamID: 1, Wire.request, endStream: false)])
        #expect(harness.server.activeStreamCount == 1)
    }

    @Test func halfClosedRemote_dataIsStreamClosed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: true))
        expectStreamOrConnectionError(harness.send(Wire.data(1, [1])), 1, .streamClosed)
    }

    @Test func halfClosedRemote_headersIsStreamClosed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: true))
        expectStreamOrConnectionError(harness.send(Wire.headers(1, [HPACKHeaderField("x-trailer", "1")])), 1, .streamClosed)
    }

    @Test func halfClosedRemote_continuationIsAProtocolError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: true))
        expectConnectionError(harness.send(Wire.continuation(1, Wire.block([HPACKHeaderField("x-a", "b")]), endHeaders: true)), .protocolError)
    }

    @Test func halfClosedRemote_windowUpdateAndPriorityAndRstAreAllowed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: true))
        let reaction = harness.send(Wire.windowUpdate(1, 10) + Wire.priority(1, dependsOn: 0))
        expectAccepted(reaction)
        #expect(reaction.events.first == .windowUpdated(streamID: 1, increment: 10))
        let reset = harness.send(Wire.rst(1))
        #expect(reset.events == [.streamReset(streamID: 1, code: .cancel, byPeer: true)])
        #expect(harness.server.activeStreamCount == 0)
    }

    @Test func closed_dataAfterPeerResetIsStreamClosed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        _ = harness.send(Wire.rst(1))
        expectStreamOrConnectionError(harness.send(Wire.data(1, [1])), 1, .streamClosed)
    }

    @Test func closed_headersAfterPeerResetIsStreamClosed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        _ = harness.send(Wire.rst(1))
        expectStreamOrConnectionError(harness.send(Wire.headers(1)), 1, .streamClosed)
    }

    @Test func closed_continuationIsAProtocolError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: true))
        try? harness.server.sendHeaders(streamID: 1, [HPACKHeaderField(":status", "200")], endStream: true)
        _ = harness.server.takeOutput()
        expectConnectionError(harness.send(Wire.continuation(1, Wire.block([HPACKHeaderField("x-a", "b")]), endHeaders: true)), .protocolError)
    }

    @Test func closed_dataAfterBothSidesEndedIsStreamClosed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: true))
        try? harness.server.sendHeaders(streamID: 1, [HPACKHeaderField(":status", "204")], endStream: true)
        _ = harness.server.takeOutput()
        expectStreamOrConnectionError(harness.send(Wire.data(1, [1])), 1, .streamClosed)
    }

    @Test func closed_headersAfterBothSidesEndedIsStreamClosed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: true))
        try? harness.server.sendHeaders(streamID: 1, [HPACKHeaderField(":status", "204")], endStream: true)
        _ = harness.server.takeOutput()
        expectStreamOrConnectionError(harness.send(Wire.headers(1, [HPACKHeaderField("x-t", "1")])), 1, .streamClosed)
    }

    @Test func closed_framesOnAStreamWeResetAreIgnored() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        try? harness.server.resetStream(streamID: 1, code: .cancel)
        #expect(wireFrames(harness.server.takeOutput()) == [WireFrame(type: .rstStream, flags: 0, streamID: 1, payload: Wire.u32(8))])
        let reaction = harness.send(Wire.data(1, [1, 2, 3]) + Wire.headers(1, [HPACKHeaderField("x-t", "1")]) + Wire.windowUpdate(1, 5))
        #expect(reaction.error == nil)
        #expect(reaction.events.isEmpty)
        #expect(!reaction.hasRST)
    }

    @Test func reservedLocal_dataFromPeerIsAProtocolError() throws {
        var harness = ServerHarness(clientSettings: [(0x2, 1)])
        _ = harness.send(Wire.headers(1, endStream: true))
        let promised = try harness.server.pushPromise(streamID: 1, request: Wire.request)
        _ = harness.server.takeOutput()
        #expect(promised == 2)
        expectConnectionError(harness.send(Wire.data(2, [1])), .protocolError)
    }
}

/// RFC 9113 §5.1.1: stream identifiers.
@Suite struct RFC9113_5_1_1_StreamIdentifiers {
    @Test func evenIdentifierFromAClientIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.headers(2)), .protocolError)
    }

    @Test func identifierBelowAPreviousOneIsAProtocolError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(5))
        expectConnectionError(harness.send(Wire.headers(3)), .protocolError)
    }

    @Test func clientStreamIdentifiersRiseByTwo() throws {
        var client = HTTP2Connection(role: .client)
        #expect(try client.startRequest(Wire.request, endStream: true) == 1)
        #expect(try client.startRequest(Wire.request, endStream: true) == 3)
    }
}

/// RFC 9113 §5.1.2: stream concurrency.
@Suite struct RFC9113_5_1_2_StreamConcurrency {
    @Test func streamsAboveMaxConcurrentStreamsAreRefused() {
        var configuration = HTTP2Configuration()
        configuration.maxConcurrentStreams = 2
        var harness = ServerHarness(configuration)
        let reaction = harness.send(Wire.headers(1, endStream: false) + Wire.headers(3, endStream: false) + Wire.headers(5, endStream: false))
        expectStreamError(reaction, 5, .refusedStream)
        #expect(reaction.events.count == 3)
        #expect(harness.server.activeStreamCount == 2)
        // A closed stream frees a slot.
        _ = harness.send(Wire.rst(1))
        expectAccepted(harness.send(Wire.headers(7, endStream: false)))
    }

    @Test func clientRespectsThePeersLimit() throws {
        var client = HTTP2Connection(role: .client)
        var events = HTTP2EventCollector()
        try client.receive(Wire.settings([(0x3, 1)]), now: 0, handler: &events)
        _ = try client.startRequest(Wire.request, endStream: true)
        #expect(throws: HTTP2UsageError.tooManyStreams) { _ = try client.startRequest(Wire.request, endStream: true) }
    }
}

/// RFC 9113 §5.3: priority signals (RFC 7540 fields parsed, a self-dependency refused).
@Suite struct RFC9113_5_3_Priority {
    @Test func section5_3_1_headersDependingOnItselfIsAStreamError() {
        var harness = ServerHarness()
        expectStreamError(harness.send(Wire.headers(1, priority: (1, 15))), 1, .protocolError)
    }

    @Test func section5_3_1_priorityDependingOnItselfIsAStreamError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectStreamError(harness.send(Wire.priority(1, dependsOn: 1)), 1, .protocolError)
    }

    @Test func priorityUpdateIsSurfacedAsRFC9218Priority() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        let reaction = harness.send(Wire.frame(.priorityUpdate, stream: 0, Wire.u32(1) + Array("u=1, i".utf8)))
        expectAccepted(reaction)
        #expect(reaction.events == [.priorityUpdate(streamID: 1, HTTP2Priority(urgency: 1, incremental: true))])
    }

    @Test func priorityHeaderIsParsed() {
        var harness = ServerHarness()
        struct Grab: HTTP2EventHandler {
            var list: HTTP2HeaderList?
            mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) {
                if case .headers(_, let headers, _) = event { list = headers }
            }
        }
        var grab = Grab()
        _ = try? harness.server.receive(Wire.headers(1, Wire.request + [HPACKHeaderField("priority", "u=5")]), now: 0, handler: &grab)
        #expect(grab.list?.priority == HTTP2Priority(urgency: 5, incremental: false))
    }

    @Test func priorityUpdateFromAServerIsAProtocolError() throws {
        var client = HTTP2Connection(role: .client)
        _ = try client.receive(Wire.settings(), now: 0)
        _ = try client.startRequest(Wire.request, endStream: true)
        var events = HTTP2EventCollector()
        #expect(throws: HTTP2ConnectionError.self) {
            try client.receive(Wire.frame(.priorityUpdate, stream: 0, Wire.u32(1) + Array("u=1".utf8)), now: 0, handler: &events)
        }
    }
}

/// RFC 9113 §5.4–5.5: error handling and extensions.
@Suite struct RFC9113_5_4_ErrorHandling {
    @Test func section5_4_1_connectionErrorSendsGoawayWithLastStreamAndEndsTheMachine() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(3))
        let reaction = harness.send(Wire.ping(stream: 1))
        expectConnectionError(reaction, .protocolError)
        #expect(reaction.goaway?.lastStreamID == 3)
        #expect(harness.server.isClosed)
        let after = harness.send(Wire.ping())
        #expect(after.error != nil)
        #expect(after.frames.isEmpty)
    }

    @Test func section5_4_2_streamErrorLeavesOtherStreamsAlone() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false) + Wire.headers(3, endStream: false))
        let reaction = harness.send(Wire.windowUpdate(1, 0) + Wire.data(3, [9], endStream: true))
        expectStreamError(reaction, 1, .protocolError)
        #expect(reaction.events.contains(.data(streamID: 3, [9], endStream: true)))
    }

    @Test func section5_5_unknownFrameInsideAHeaderBlockIsAProtocolError() {
        var harness = ServerHarness()
        let block = Wire.block(Wire.request)
        let reaction = harness.send(Wire.headers(1, block: Array(block.prefix(2)), endHeaders: false)
            + Wire.frame(HTTP2FrameType(rawValue: 0xee), stream: 1, [0]))
        expectConnectionError(reaction, .protocolError)
    }
}
