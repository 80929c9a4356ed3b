import EpsilonHPACK
import EpsilonHTTP2
import Testing

/// RFC 9113 §3.4: the connection preface.
@Suite struct RFC9113_3_4_Preface {
    @Test func serverSendsSettingsFirstAndAcknowledgesTheClients() {
        var server = HTTP2Connection(role: .server)
        let opening = wireFrames(server.takeOutput())
        #expect(opening.first?.type == .settings && opening.first?.isAck == false)
        let reaction = ServerHarness.feed(&server, HTTP2Connection.clientPreface + Wire.settings([(0x3, 50)]))
        expectAccepted(reaction)
        #expect(reaction.frames == [WireFrame(type: .settings, flags: 1, streamID: 0, payload: [])])
        var expected = HTTP2Settings()
        expected.maxConcurrentStreams = 50
        #expect(reaction.events == [.settingsChanged(expected)])
    }

    @Test func clientSendsPrefaceThenSettings() {
        var client = HTTP2Connection(role: .client)
        let bytes = client.takeOutput()
        #expect(bytes.starts(with: HTTP2Connection.clientPreface))
        let frames = wireFrames(bytes)
        #expect(frames.first?.type == .settings)
        // ENABLE_PUSH=0 is announced by default.
        #expect(frames.first.map { $0.payload.starts(with: [0, 2, 0, 0, 0, 0]) } == true)
    }

    @Test func invalidPrefaceIsAProtocolError() {
        var server = HTTP2Connection(role: .server)
        _ = server.takeOutput()
        let reaction = ServerHarness.feed(&server, Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        expectConnectionError(reaction, .protocolError)
        #expect(reaction.error?.rule == .invalidPreface)
    }

    @Test func firstFrameOtherThanSettingsIsAProtocolError() {
        var server = HTTP2Connection(role: .server)
        _ = server.takeOutput()
        let reaction = ServerHarness.feed(&server, HTTP2Connection.clientPreface + Wire.ping())
        expectConnectionError(reaction, .protocolError)
        #expect(reaction.error?.rule == .firstFrameNotSettings)
    }

    @Test func aSettingsAckCannotBeTheFirstFrame() {
        var server = HTTP2Connection(role: .server)
        _ = server.takeOutput()
        expectConnectionError(ServerHarness.feed(&server, HTTP2Connection.clientPreface + Wire.settings(ack: true)), .protocolError)
    }

    @Test func prefaceAndFramesSplitOneByteAtATimeGiveTheSameEvents() {
        let input = HTTP2Connection.clientPreface + Wire.settings() + Wire.headers(1) + Wire.ping()
        var whole = HTTP2Connection(role: .server)
        let expected = ServerHarness.feed(&whole, input)
        var split = HTTP2Connection(role: .server)
        var events: [HTTP2OwnedEvent] = []
        var frames: [UInt8] = []
        for byte in input {
            let reaction = ServerHarness.feed(&split, [byte])
            #expect(reaction.error == nil)
            events += reaction.events
            frames += reaction.frames.flatMap { Wire.frame($0.type, flags: $0.flags, stream: $0.streamID, $0.payload) }
        }
        #expect(events == expected.events)
        #expect(wireFrames(frames) == expected.frames)
        #expect(events.contains(.headers(streamID: 1, Wire.request, endStream: true)))
    }
}

/// RFC 9113 §4: frame format, size and header compression.
@Suite struct RFC9113_4_Frames {
    @Test func section4_1_unknownFrameTypeIsIgnored() {
        var harness = ServerHarness()
        let reaction = harness.send(Wire.frame(HTTP2FrameType(rawValue: 0xfa), flags: 0xff, stream: 0, [1, 2, 3]) + Wire.ping())
        expectAccepted(reaction)
        #expect(reaction.frames.map(\.type) == [.ping])
    }

    @Test func section4_1_unknownFlagsAreIgnored() {
        var harness = ServerHarness()
        let reaction = harness.send(Wire.frame(.ping, flags: 0xfe, stream: 0, [1, 2, 3, 4, 5, 6, 7, 8]))
        expectAccepted(reaction)
        #expect(reaction.frames == [WireFrame(type: .ping, flags: 1, streamID: 0, payload: [1, 2, 3, 4, 5, 6, 7, 8])])
    }

    @Test func section4_1_reservedBitIsIgnored() {
        var harness = ServerHarness()
        var frame = Wire.headers(1)
        frame[5] |= 0x80
        let reaction = harness.send(frame)
        expectAccepted(reaction)
        #expect(reaction.events.count == 1)
    }

    @Test func section4_2_dataOfExactlyTheDefaultMaxFrameSizeIsAccepted() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        let reaction = harness.send(Wire.data(1, Array(repeating: 0, count: 16_384)))
        #expect(reaction.error == nil && reaction.goaway == nil && !reaction.hasRST)
        #expect(reaction.events == [.data(streamID: 1, Array(repeating: 0, count: 16_384), endStream: false)])
    }

    @Test func section4_2_dataAboveMaxFrameSizeIsAFrameSizeError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectConnectionError(harness.send(Wire.data(1, Array(repeating: 0, count: 16_385))), .frameSizeError)
    }

    @Test func section4_2_headersAboveMaxFrameSizeIsAConnectionFrameSizeError() {
        var harness = ServerHarness()
        let big = Wire.request + [HPACKHeaderField("x-big", String(repeating: "a", count: 17_000))]
        expectConnectionError(harness.send(Wire.headers(1, block: Wire.block(big))), .frameSizeError)
    }

    @Test func section4_2_largerFramesAcceptedWhenWeAnnounceThem() {
        var configuration = HTTP2Configuration()
        configuration.maxFrameSize = 32_768
        configuration.initialWindowSize = 65_535
        var harness = ServerHarness(configuration)
        _ = harness.send(Wire.headers(1, endStream: false))
        let reaction = harness.send(Wire.data(1, Array(repeating: 7, count: 20_000)))
        expectAccepted(reaction)
        #expect(reaction.events == [.data(streamID: 1, Array(repeating: 7, count: 20_000), endStream: false)])
    }

    @Test func section4_3_undecodableHeaderBlockIsACompressionError() {
        var harness = ServerHarness()
        // Indexed field 70: past the static table, the dynamic table is empty.
        expectConnectionError(harness.send(Wire.headers(1, block: [0xc6])), .compressionError)
    }

    @Test func section4_3_headerBlockInterruptedIsAProtocolError() {
        var harness = ServerHarness()
        let block = Wire.block(Wire.request)
        let reaction = harness.send(Wire.headers(1, block: Array(block.prefix(3)), endHeaders: false)
            + Wire.priority(1, dependsOn: 0)
            + Wire.continuation(1, Array(block.dropFirst(3)), endHeaders: true))
        expectConnectionError(reaction, .protocolError)
    }
}
