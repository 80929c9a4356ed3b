import EpsilonHPACK
import EpsilonHTTP2
import Testing

/// RFC 9113 §6.1: DATA.
@Suite struct RFC9113_6_1_Data {
    @Test func dataOnStreamZeroIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.data(0, [1])), .protocolError)
    }

    @Test func dataOnAHalfClosedRemoteStreamIsStreamClosed() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: true))
        expectStreamOrConnectionError(harness.send(Wire.data(1, [1])), 1, .streamClosed)
    }

    @Test func paddingLongerThanThePayloadIsAProtocolError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectConnectionError(harness.send(Wire.frame(.data, flags: 0x8, stream: 1, [5, 1, 2, 3])), .protocolError)
    }

    @Test func paddedDataIsDeliveredWithoutItsPaddingAndThePaddingIsCredited() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        let reaction = harness.send(Wire.data(1, [1, 2, 3], endStream: true, padding: 40_000 / 200))
        expectAccepted(reaction)
        #expect(reaction.events == [.data(streamID: 1, [1, 2, 3], endStream: true)])
    }
}

/// RFC 9113 §6.2: HEADERS.
@Suite struct RFC9113_6_2_Headers {
    @Test func headersWithoutEndHeadersFollowedByAnotherFrameIsAProtocolError() {
        var harness = ServerHarness()
        let block = Wire.block(Wire.request)
        expectConnectionError(harness.send(Wire.headers(1, block: block, endHeaders: false) + Wire.data(1, [1])), .protocolError)
    }

    @Test func headersFollowedByContinuationOnAnotherStreamIsAProtocolError() {
        var harness = ServerHarness()
        let block = Wire.block(Wire.request)
        expectConnectionError(harness.send(Wire.headers(1, block: Array(block.prefix(4)), endHeaders: false)
            + Wire.continuation(3, Array(block.dropFirst(4)), endHeaders: true)), .protocolError)
    }

    @Test func headersOnStreamZeroIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.headers(0)), .protocolError)
    }

    @Test func headersWithPaddingTooLongIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.frame(.headers, flags: 0x8 | 0x4, stream: 1, [9, 0x82])), .protocolError)
    }

    @Test func paddedHeadersWithPriorityAreDecoded() {
        var harness = ServerHarness()
        let block = Wire.block(Wire.request)
        let payload: [UInt8] = [4] + Wire.u32(0x8000_0000) + [200] + block + [0, 0, 0, 0]
        let reaction = harness.send(Wire.frame(.headers, flags: 0x1 | 0x4 | 0x8 | 0x20, stream: 1, payload))
        expectAccepted(reaction)
        #expect(reaction.events == [.headers(streamID: 1, Wire.request, endStream: true)])
    }
}

/// RFC 9113 §6.3: PRIORITY.
@Suite struct RFC9113_6_3_Priority {
    @Test func priorityOnStreamZeroIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.priority(0, dependsOn: 1)), .protocolError)
    }

    @Test func priorityOfTheWrongLengthIsAStreamFrameSizeError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectStreamError(harness.send(Wire.frame(.priority, stream: 1, [0, 0, 0, 0])), 1, .frameSizeError)
    }
}

/// RFC 9113 §6.4: RST_STREAM.
@Suite struct RFC9113_6_4_RstStream {
    @Test func rstStreamOnStreamZeroIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.rst(0)), .protocolError)
    }

    @Test func rstStreamOnAnIdleStreamIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.rst(1)), .protocolError)
    }

    @Test func rstStreamOfTheWrongLengthIsAFrameSizeError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectConnectionError(harness.send(Wire.frame(.rstStream, stream: 1, [0, 0, 8])), .frameSizeError)
    }
}

/// RFC 9113 §6.5: SETTINGS.
@Suite struct RFC9113_6_5_Settings {
    @Test func settingsAckWithAPayloadIsAFrameSizeError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.frame(.settings, flags: 1, stream: 0, [0, 1, 0, 0, 0, 0])), .frameSizeError)
    }

    @Test func settingsOnAStreamIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.frame(.settings, stream: 1, [])), .protocolError)
    }

    @Test func settingsOfALengthNotAMultipleOf6IsAFrameSizeError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.frame(.settings, stream: 0, [0, 3, 0])), .frameSizeError)
    }

    @Test(arguments: [
        (UInt16(0x2), UInt32(2), HTTP2ErrorCode.protocolError),
        (UInt16(0x4), UInt32(0x8000_0000), HTTP2ErrorCode.flowControlError),
        (UInt16(0x5), UInt32(16_383), HTTP2ErrorCode.protocolError),
        (UInt16(0x5), UInt32(16_777_216), HTTP2ErrorCode.protocolError),
    ])
    func section6_5_2_outOfRangeValues(parameter: UInt16, value: UInt32, code: HTTP2ErrorCode) {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.settings([(parameter, value)])), code)
    }

    @Test func section6_5_2_unknownSettingsAreIgnored() {
        var harness = ServerHarness()
        let reaction = harness.send(Wire.settings([(0xff, 1)]))
        expectAccepted(reaction)
        #expect(reaction.frames == [WireFrame(type: .settings, flags: 1, streamID: 0, payload: [])])
    }

    @Test func section6_5_3_settingsAreAcknowledgedAndOursAckedChangeTheDecoder() {
        var configuration = HTTP2Configuration()
        configuration.headerTableSize = 0
        var harness = ServerHarness(configuration)
        let ack = harness.send(Wire.settings(ack: true))
        #expect(ack.events == [.settingsAcknowledged])
        // The table shrank to 0: the next block must start with a size update (RFC 7541 §4.2).
        expectConnectionError(harness.send(Wire.headers(1)), .compressionError)
    }

    @Test func section6_5_3_tableSizeUpdateAfterOurAckIsAccepted() {
        var configuration = HTTP2Configuration()
        configuration.headerTableSize = 0
        var harness = ServerHarness(configuration)
        _ = harness.send(Wire.settings(ack: true))
        let reaction = harness.send(Wire.headers(1, block: [0x20] + Wire.block(Wire.request)))
        expectAccepted(reaction)
        #expect(reaction.events.count == 1)
    }

    @Test func section6_5_3_unacknowledgedSettingsTimeOut() throws {
        var configuration = HTTP2Configuration()
        configuration.settingsTimeout = 5_000_000_000
        var server = HTTP2Connection(role: .server, configuration: configuration)
        _ = server.takeOutput()
        var events = HTTP2EventCollector()
        try server.receive(HTTP2Connection.clientPreface + Wire.settings(), now: 1_000_000_000, handler: &events)
        // The timer runs from the first time given and says when it is due.
        #expect(server.nextDeadline == 6_000_000_001)
        try server.handleTimeouts(now: 6_000_000_000)
        #expect {
            try server.handleTimeouts(now: 6_000_000_001)
        } throws: { error in
            let error = error as? HTTP2ConnectionError
            return error?.rule == .settingsTimeout && error?.code == .settingsTimeout
                && error?.section == "RFC 9113 §6.5.3" && error?.offset == 24 + 9
        }
        #expect(wireFrames(server.takeOutput()).last?.errorCode == .settingsTimeout)
        #expect(server.nextDeadline == nil)
        // Acknowledged in time: no timeout, however long the connection lives.
        var calm = HTTP2Connection(role: .server, configuration: configuration)
        try calm.receive(HTTP2Connection.clientPreface + Wire.settings() + Wire.settings(ack: true), now: 1_000_000_000, handler: &events)
        #expect(calm.nextDeadline == nil)
        try calm.handleTimeouts(now: 100_000_000_000)
    }

    @Test func peerHeaderTableSizeReachesOurEncoder() throws {
        var harness = ServerHarness(clientSettings: [(0x1, 0)])
        _ = harness.send(Wire.headers(1))
        try harness.server.sendHeaders(streamID: 1, [HPACKHeaderField(":status", "200"), HPACKHeaderField("x-a", "b")], endStream: true)
        let frames = wireFrames(harness.server.takeOutput())
        // The block opens with a size update to 0 (0x20).
        #expect(frames.first?.payload.first == 0x20)
        var decoder = HPACKHeaderBlockDecoder(configuration: .init(maxTableSize: 4096))
        decoder.setMaxTableSize(0)
        let fields = try decoder.decodeFields(frames[0].payload)
        #expect(fields.map(\.name) == [":status", "x-a"])
        #expect(fields.map(\.value) == ["200", "b"])
    }
}

/// RFC 9113 §6.6: PUSH_PROMISE.
@Suite struct RFC9113_6_6_PushPromise {
    @Test func pushPromiseToAServerIsAProtocolError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectConnectionError(harness.send(Wire.frame(.pushPromise, flags: 4, stream: 1, Wire.u32(2) + Wire.block(Wire.request))), .protocolError)
    }

    @Test func pushPromiseWhenPushIsDisabledIsAProtocolError() throws {
        var client = HTTP2Connection(role: .client)
        _ = try client.receive(Wire.settings(), now: 0)
        _ = try client.startRequest(Wire.request, endStream: true)
        let reaction = ServerHarness.feed(&client, Wire.frame(.pushPromise, flags: 4, stream: 1, Wire.u32(2) + Wire.block(Wire.request)))
        expectConnectionError(reaction, .protocolError)
    }

    @Test func serverCannotPushWhenTheClientDisabledIt() {
        var harness = ServerHarness(clientSettings: [(0x2, 0)])
        _ = harness.send(Wire.headers(1))
        #expect(throws: HTTP2UsageError.pushDisabled) { _ = try harness.server.pushPromise(streamID: 1, request: Wire.request) }
    }

    @Test func pushIsPromisedThenAnsweredOnAnEvenStream() throws {
        var configuration = HTTP2Configuration()
        configuration.enablePush = true
        var client = HTTP2Connection(role: .client, configuration: configuration)
        var server = HTTP2Connection(role: .server)
        let id = try client.startRequest(Wire.request, endStream: true)
        var serverEvents = HTTP2EventCollector()
        try server.receive(client.takeOutput(), now: 0, handler: &serverEvents)
        #expect(serverEvents.events.contains(.headers(streamID: 1, Wire.request, endStream: true)))
        let promised = try server.pushPromise(streamID: id, request: [HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"), HPACKHeaderField(":path", "/style.css"), HPACKHeaderField(":authority", "example.org")])
        try server.sendHeaders(streamID: id, [HPACKHeaderField(":status", "200")], endStream: true)
        try server.sendHeaders(streamID: promised, [HPACKHeaderField(":status", "200")], endStream: false)
        try server.sendData(streamID: promised, Array("body{}".utf8), endStream: true)
        var events = HTTP2EventCollector()
        try client.receive(server.takeOutput(), now: 0, handler: &events)
        #expect(events.events.contains(.pushPromise(streamID: 1, promisedStreamID: 2, request: [HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"), HPACKHeaderField(":path", "/style.css"), HPACKHeaderField(":authority", "example.org")])))
        #expect(events.events.contains(.headers(streamID: 2, [HPACKHeaderField(":status", "200")], endStream: false)))
        #expect(events.events.contains(.data(streamID: 2, Array("body{}".utf8), endStream: true)))
        #expect(client.activeStreamCount == 0)
    }
}

/// RFC 9113 §6.7: PING.
@Suite struct RFC9113_6_7_Ping {
    @Test func pingIsAnsweredWithTheSamePayload() {
        var harness = ServerHarness()
        let reaction = harness.send(Wire.ping([9, 8, 7, 6, 5, 4, 3, 2]))
        #expect(reaction.frames == [WireFrame(type: .ping, flags: 1, streamID: 0, payload: [9, 8, 7, 6, 5, 4, 3, 2])])
        #expect(reaction.events == [.ping(0x0908070605040302)])
    }

    @Test func pingAckIsNotAnswered() {
        var harness = ServerHarness()
        let reaction = harness.send(Wire.ping(ack: true))
        #expect(reaction.frames.isEmpty)
        #expect(reaction.events == [.pingAcknowledged(0x0102030405060708)])
    }

    @Test func pingOnAStreamIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.ping(stream: 1)), .protocolError)
    }

    @Test func pingOfTheWrongLengthIsAFrameSizeError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.frame(.ping, stream: 0, [1, 2, 3, 4, 5, 6])), .frameSizeError)
    }
}

/// RFC 9113 §6.8: GOAWAY.
@Suite struct RFC9113_6_8_Goaway {
    @Test func goawayOnAStreamIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.frame(.goaway, stream: 1, Wire.u32(0) + Wire.u32(0))), .protocolError)
    }

    @Test func goawayIsSurfacedAndRefusesOurStreamsAboveLast() throws {
        var client = HTTP2Connection(role: .client)
        _ = try client.receive(Wire.settings(), now: 0)
        _ = try client.startRequest(Wire.request, endStream: true)
        _ = try client.startRequest(Wire.request, endStream: true)
        let events = try client.receive(Wire.goaway(1), now: 0)
        #expect(events == [.goaway(lastStreamID: 1, code: .noError, debugData: []),
                           .streamReset(streamID: 3, code: .refusedStream, byPeer: true)])
        #expect(throws: HTTP2UsageError.goawayReceived) { _ = try client.startRequest(Wire.request, endStream: true) }
    }

    @Test func gracefulShutdownSendsTwoGoawaysAroundAPing() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        harness.server.beginGracefulShutdown()
        let first = wireFrames(harness.server.takeOutput())
        #expect(first.map(\.type) == [.goaway, .ping])
        #expect(first[0].lastStreamID == 0x7fff_ffff && first[0].errorCode == .noError)
        // A stream opened before the PING's ACK is still served.
        let reaction = harness.send(Wire.headers(3, endStream: false) + Wire.ping(first[1].payload, ack: true))
        #expect(reaction.events.contains(.headers(streamID: 3, Wire.request, endStream: false)))
        #expect(reaction.goaway?.lastStreamID == 3)
        // Streams above it are ignored.
        let late = harness.send(Wire.headers(5))
        expectAccepted(late)
        #expect(late.events.isEmpty)
        #expect(!harness.server.isQuiescent)
        _ = harness.send(Wire.rst(1) + Wire.rst(3))
        #expect(harness.server.isQuiescent)
    }
}

/// RFC 9113 §6.9: WINDOW_UPDATE and flow control.
@Suite struct RFC9113_6_9_WindowUpdate {
    @Test func zeroIncrementOnTheConnectionIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.windowUpdate(0, 0)), .protocolError)
    }

    @Test func zeroIncrementOnAStreamIsAStreamProtocolError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectStreamError(harness.send(Wire.windowUpdate(1, 0)), 1, .protocolError)
    }

    @Test func windowUpdateOfTheWrongLengthIsAFrameSizeError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.frame(.windowUpdate, stream: 0, [0, 0, 1])), .frameSizeError)
    }

    @Test func section6_9_1_connectionWindowOverflowIsAFlowControlError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.windowUpdate(0, 0x7fff_ffff)), .flowControlError)
    }

    @Test func section6_9_1_streamWindowOverflowIsAStreamFlowControlError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectStreamError(harness.send(Wire.windowUpdate(1, 0x7fff_ffff)), 1, .flowControlError)
    }

    @Test func section6_9_1_dataBeyondTheStreamWindowIsAFlowControlError() {
        var configuration = HTTP2Configuration()
        configuration.initialWindowSize = 100
        var harness = ServerHarness(configuration)
        _ = harness.send(Wire.settings(ack: true))
        _ = harness.send(Wire.headers(1, endStream: false))
        expectStreamError(harness.send(Wire.data(1, Array(repeating: 1, count: 101))), 1, .flowControlError)
    }

    @Test func section6_9_1_dataBeyondTheConnectionWindowIsAFlowControlError() {
        var configuration = HTTP2Configuration()
        configuration.windowReplenishment = .manual
        configuration.initialWindowSize = 1 << 20
        var harness = ServerHarness(configuration)
        _ = harness.send(Wire.headers(1, endStream: false))
        var reaction = Reaction()
        for _ in 0..<5 { reaction = harness.send(Wire.data(1, Array(repeating: 1, count: 16_000))) }
        expectConnectionError(reaction, .flowControlError)
    }

    @Test func sendDataStopsAtThePeersWindowAndResumesAfterWindowUpdate() throws {
        var harness = ServerHarness(clientSettings: [(0x4, 10)])
        _ = harness.send(Wire.headers(1))
        try harness.server.sendHeaders(streamID: 1, [HPACKHeaderField(":status", "200")], endStream: false)
        let body = Array(repeating: UInt8(0x61), count: 25)
        #expect(try harness.server.sendData(streamID: 1, body, endStream: true) == 10)
        _ = harness.server.takeOutput()
        _ = harness.send(Wire.windowUpdate(1, 100))
        #expect(try harness.server.sendData(streamID: 1, Array(body[10...]), endStream: true) == 15)
        let frames = wireFrames(harness.server.takeOutput())
        #expect(frames.count == 1 && frames[0].flags & 1 == 1 && frames[0].payload.count == 15)
    }

    @Test func automaticReplenishmentReturnsCreditAtHalfTheWindow() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        let small = harness.send(Wire.data(1, Array(repeating: 1, count: 15_000)) + Wire.data(1, Array(repeating: 1, count: 15_000)))
        #expect(small.frames.isEmpty)
        let more = harness.send(Wire.data(1, Array(repeating: 1, count: 3_000)))
        #expect(more.frames.map(\.streamID).sorted() == [0, 1])
        #expect(more.frames.allSatisfy { $0.type == .windowUpdate && $0.windowIncrement == 33_000 })
    }

    @Test func manualReplenishmentWaitsForConsume() {
        var configuration = HTTP2Configuration()
        configuration.windowReplenishment = .manual
        var harness = ServerHarness(configuration)
        _ = harness.send(Wire.headers(1, endStream: false))
        let chunk = Array(repeating: UInt8(1), count: 10_000)
        #expect(harness.send(Wire.data(1, chunk) + Wire.data(1, chunk) + Wire.data(1, chunk) + Wire.data(1, chunk)).frames.isEmpty)
        harness.server.consume(streamID: 1, count: 40_000)
        let frames = wireFrames(harness.server.takeOutput())
        #expect(frames.count == 2 && frames.allSatisfy { $0.windowIncrement == 40_000 })
    }

    @Test func section6_9_2_initialWindowSizeChangeAppliesToOpenStreams() throws {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1))
        try harness.server.sendHeaders(streamID: 1, [HPACKHeaderField(":status", "200")], endStream: false)
        _ = harness.server.takeOutput()
        _ = harness.send(Wire.settings([(0x4, 100)]))
        #expect(harness.server.sendWindow(streamID: 1) == 100)
        // A cut below what was sent makes the window negative (§6.9.2).
        #expect(try harness.server.sendData(streamID: 1, Array(repeating: 0, count: 80), endStream: false) == 80)
        _ = harness.send(Wire.settings([(0x4, 50)]))
        #expect(harness.server.sendWindow(streamID: 1) == 0)
        _ = harness.send(Wire.windowUpdate(1, 40))
        #expect(harness.server.sendWindow(streamID: 1) == 10)
    }

    @Test func section6_9_2_creditOwedBeforeAWindowCutIsReturnedWhenTheCutTakesEffect() {
        // The peer sends under the default 65 535 window before our smaller SETTINGS arrives;
        // when it ACKs the cut its window is negative and no DATA can come to trigger credit:
        // the machine must return what it owes then, or the stream stalls for good.
        var configuration = HTTP2Configuration()
        configuration.initialWindowSize = 16_384
        var harness = ServerHarness(configuration)
        _ = harness.send(Wire.headers(1, endStream: false))
        let chunk = Array(repeating: UInt8(1), count: 16_000)
        var frames: [WireFrame] = []
        for _ in 0..<4 { frames += harness.send(Wire.data(1, chunk)).frames }
        let creditedBefore = frames.filter { $0.streamID == 1 }.compactMap(\.windowIncrement).reduce(0, +)
        let ack = harness.send(Wire.settings(ack: true))
        let creditedAtAck = ack.frames.filter { $0.streamID == 1 }.compactMap(\.windowIncrement).reduce(0, +)
        #expect(creditedBefore == 48_000)
        #expect(creditedAtAck == 16_000)
        // The peer's window is now 65 535 - 64 000 + 64 000 - 49 151 = 16 384.
        expectAccepted(harness.send(Wire.data(1, Array(repeating: 1, count: 16_384))))
    }

    @Test func section6_9_2_initialWindowSizeOverflowingAStreamIsAFlowControlError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        _ = harness.send(Wire.windowUpdate(1, 0x7fff_ffff - 65_535))
        expectConnectionError(harness.send(Wire.settings([(0x4, 65_536)])), .flowControlError)
    }
}

/// RFC 9113 §6.10: CONTINUATION.
@Suite struct RFC9113_6_10_Continuation {
    @Test func headerBlockAcrossSeveralContinuationsIsDecoded() {
        var harness = ServerHarness()
        let block = Wire.block(Wire.request + [HPACKHeaderField("x-long", String(repeating: "v", count: 40))])
        let parts = stride(from: 0, to: block.count, by: 10).map { Array(block[$0..<min($0 + 10, block.count)]) }
        var bytes = Wire.headers(1, block: parts[0], endHeaders: false)
        for (index, part) in parts.enumerated().dropFirst() {
            bytes += Wire.continuation(1, part, endHeaders: index == parts.count - 1)
        }
        let reaction = harness.send(bytes)
        expectAccepted(reaction)
        #expect(reaction.events.count == 1)
    }

    @Test func continuationAfterDataIsAProtocolError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectConnectionError(harness.send(Wire.data(1, [1]) + Wire.continuation(1, [0x82], endHeaders: true)), .protocolError)
    }

    @Test func continuationAfterEndHeadersIsAProtocolError() {
        var harness = ServerHarness()
        expectConnectionError(harness.send(Wire.headers(1, endStream: false) + Wire.continuation(1, [], endHeaders: true)), .protocolError)
    }

    @Test func continuationOnStreamZeroIsAProtocolError() {
        var harness = ServerHarness()
        let block = Wire.block(Wire.request)
        expectConnectionError(harness.send(Wire.headers(1, block: Array(block.prefix(3)), endHeaders: false)
            + Wire.continuation(0, Array(block.dropFirst(3)), endHeaders: true)), .protocolError)
    }

    @Test func continuationOnAnotherStreamIsAProtocolError() {
        var harness = ServerHarness()
        let block = Wire.block(Wire.request)
        expectConnectionError(harness.send(Wire.headers(1, block: Array(block.prefix(3)), endHeaders: false)
            + Wire.continuation(3, Array(block.dropFirst(3)), endHeaders: true)), .protocolError)
    }
}
