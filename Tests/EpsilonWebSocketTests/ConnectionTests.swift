import EpsilonWebSocket
import Testing

/// RFC 6455 §5.4 fragmentation and §8.1 UTF-8, both roles.
@Suite struct RFC6455_5_4_Messages {
    static let roles: [WebSocketRole] = [.client, .server]

    @Test(arguments: roles)
    func assemblesFragmentsWithInterleavedControlFrames(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        let stream = frame(.text, Array("He".utf8), fin: false, mask: mask) + frame(.ping, Array("p1".utf8), mask: mask)
            + frame(.continuation, [], fin: false, mask: mask) + frame(.pong, Array("p2".utf8), mask: mask)
            + frame(.continuation, Array("llo".utf8), mask: mask) + frame(.binary, [1, 2, 3], mask: mask)
        for chunk in [1, 2, 5, 1000] {
            let result = receive(stream, as: role, chunk: chunk)
            #expect(result.error == nil)
            #expect(result.items == [.ping(Array("p1".utf8)), .pong(Array("p2".utf8)), .message(.text, Array("Hello".utf8)), .message(.binary, [1, 2, 3])])
        }
    }

    @Test(arguments: roles)
    func acceptsTextSplitInsideMultiByteSequences(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        let text = Array("aé€😀b".utf8)
        for cut1 in 0...text.count {
            for cut2 in cut1...text.count {
                let stream = frame(.text, Array(text[..<cut1]), fin: false, mask: mask)
                    + frame(.continuation, Array(text[cut1..<cut2]), fin: false, mask: mask)
                    + frame(.continuation, Array(text[cut2...]), mask: mask)
                let result = receive(stream, as: role)
                #expect(result.error == nil)
                #expect(result.items == [.message(.text, text)])
            }
        }
    }

    @Test(arguments: roles)
    func rejectsInvalidUTF8AtEveryPositionAndOffset(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        let text = Array("κόσμε and €uro 😀 text".utf8)
        let headerSize = 2 + (mask == nil ? 0 : 4)
        for position in 0...text.count {
            var bad = text
            bad.insert(0xFF, at: position)
            // First fragment ends at `position`, so the bad byte opens the second fragment.
            let first = frame(.text, Array(bad[..<position]), fin: false, mask: mask)
            let stream = first + frame(.continuation, Array(bad[position...]), mask: mask)
            var connection = WebSocketConnection(role: role)
            let result = receive(stream, into: &connection)
            #expect(result.error == WebSocketError(.invalidUTF8, offset: first.count + headerSize))
            #expect(result.items.isEmpty)
            #expect(connection.state == .failed(WebSocketError(.invalidUTF8, offset: first.count + headerSize)))
            var out: [UInt8] = []
            connection.writeOutput(into: &out)
            let close = decodeFrames(out, as: peer(of: role))
            #expect(close.frames.first?.1 == [0x03, 0xEF])  // 1007
        }
    }

    @Test(arguments: roles)
    func failsTruncatedTextBeforeTheFinalFragmentEnds(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        // "€" cut short at the end of the message: only the end can tell.
        let stream = frame(.text, [0x61, 0xE2, 0x82], mask: mask)
        #expect(receive(stream, as: role).error?.rule == .invalidUTF8)
        // An impossible byte is refused in the first fragment, before FIN arrives.
        let early = frame(.text, [0x61, 0xC0], fin: false, mask: mask)
        #expect(receive(early, as: role).error == WebSocketError(.invalidUTF8, offset: 2 + (mask == nil ? 0 : 4) + 1))
    }

    @Test(arguments: roles)
    func rejectsContinuationWithoutAMessage(_ role: WebSocketRole) {
        let stream = frame(.continuation, [1], mask: key(for: peer(of: role)))
        #expect(receive(stream, as: role).error?.rule == .unexpectedContinuation)
    }

    @Test(arguments: roles)
    func rejectsANewMessageInsideAFragmentedOne(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        let stream = frame(.text, [0x61], fin: false, mask: mask) + frame(.binary, [1], mask: mask)
        #expect(receive(stream, as: role).error?.rule == .expectedContinuation)
    }

    @Test(arguments: roles)
    func rejectsRSV1OnContinuationsAndControlFramesUnderCompression(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        var configuration = WebSocketConnection.Configuration()
        configuration.allowsCompressedMessages = true
        let continuation = frame(.binary, [1], fin: false, reserved: .rsv1, mask: mask) + frame(.continuation, [2], reserved: .rsv1, mask: mask)
        #expect(receive(continuation, as: role, configuration: configuration).error?.rule == .reservedBitsSet)
        let ping = frame(.ping, [], reserved: .rsv1, mask: mask)
        #expect(receive(ping, as: role, configuration: configuration).error?.rule == .reservedBitsSet)
        let ok = frame(.binary, [1], fin: false, reserved: .rsv1, mask: mask) + frame(.continuation, [2], mask: mask)
        let result = receive(ok, as: role, configuration: configuration)
        #expect(result.error == nil)
        #expect(result.items == [.message(.binary, [1, 2])])
    }

    @Test(arguments: roles)
    func enforcesTheMessageLimitAcrossFragments(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        var configuration = WebSocketConnection.Configuration()
        configuration.maxMessageSize = 10
        let stream = frame(.binary, [UInt8](repeating: 1, count: 6), fin: false, mask: mask) + frame(.continuation, [UInt8](repeating: 1, count: 5), mask: mask)
        var connection = WebSocketConnection(role: role, configuration: configuration)
        #expect(receive(stream, into: &connection).error?.rule == .messageTooLarge)
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(decodeFrames(out, as: peer(of: role)).frames.first?.1 == [0x03, 0xF1])  // 1009
    }

    @Test(arguments: roles)
    func sentFramesDecodeOnTheOtherSide(_ role: WebSocketRole) throws {
        var configuration = WebSocketConnection.Configuration()
        configuration.maskingKeys = .fixed(0x0102_0304)
        var sender = WebSocketConnection(role: role, configuration: configuration)
        var out: [UInt8] = []
        try sender.send(.text, bytes: Array("hello".utf8))
        try Array("frag".utf8).withUnsafeBytes { try sender.send(.binary, payload: $0, fin: false) }
        try [UInt8]([9]).withUnsafeBytes { try sender.sendPing($0) }
        try Array("ment".utf8).withUnsafeBytes { try sender.sendContinuation($0, fin: true) }
        try sender.sendClose(code: .normalClosure, reason: "bye", now: 0)
        #expect(sender.state == .closeSent)
        sender.writeOutput(into: &out)
        let frames = decodeFrames(out, as: peer(of: role)).frames
        #expect(frames.allSatisfy { ($0.0.maskingKey != nil) == (role == .client) })
        let result = receive(out, as: peer(of: role))
        #expect(result.error == nil)
        #expect(result.items == [.message(.text, Array("hello".utf8)), .ping([9]), .message(.binary, Array("fragment".utf8)), .close(.normalClosure, "bye")])
    }

    @Test func refusesOutOfSequenceSends() throws {
        var connection = WebSocketConnection(role: .server)
        #expect(throws: WebSocketUsageError.sendNotAllowed) { try [UInt8]().withUnsafeBytes { try connection.sendContinuation($0, fin: true) } }
        try [UInt8]([1]).withUnsafeBytes { try connection.send(.binary, payload: $0, fin: false) }
        #expect(throws: WebSocketUsageError.sendNotAllowed) { try connection.send(.text, bytes: []) }
        #expect(throws: WebSocketUsageError.controlPayloadTooLong) { try [UInt8](repeating: 0, count: 126).withUnsafeBytes { try connection.sendPing($0) } }
        var fresh = WebSocketConnection(role: .client)
        #expect(throws: WebSocketUsageError.compressionNotNegotiated) { try [UInt8]([1]).withUnsafeBytes { try fresh.send(.binary, payload: $0, compressed: true) } }
    }
}

/// RFC 6455 §5.5 and §7: ping/pong policy and the close handshake.
@Suite struct RFC6455_7_Closing {
    static let roles: [WebSocketRole] = [.client, .server]

    @Test(arguments: roles)
    func answersEveryPingAutomaticallyInOrder(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        var connection = WebSocketConnection(role: role)
        let result = receive(frame(.ping, Array("one".utf8), mask: mask) + frame(.ping, Array("two".utf8), mask: mask), into: &connection)
        #expect(result.items == [.ping(Array("one".utf8)), .ping(Array("two".utf8))])
        #expect(connection.hasPendingOutput)
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(receive(out, as: peer(of: role)).items == [.pong(Array("one".utf8)), .pong(Array("two".utf8))])
        #expect(!connection.hasPendingOutput)
    }

    @Test(arguments: roles)
    func aPingFloodKeepsOnlyTheLatestPongsWithinTheBound(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        var configuration = WebSocketConnection.Configuration()
        configuration.maxQueuedPongBytes = 300
        var connection = WebSocketConnection(role: role, configuration: configuration)
        var stream: [UInt8] = []
        for i in 0..<10 { stream += frame(.ping, [UInt8](repeating: UInt8(i), count: 100), mask: mask) }
        #expect(receive(stream, into: &connection).error == nil)
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(out.count <= 300)
        let pongs = receive(out, as: peer(of: role)).items
        #expect(pongs.last == .pong([UInt8](repeating: 9, count: 100)))
        #expect(pongs.count < 10)
    }

    @Test(arguments: roles)
    func manualPolicyOnlyReportsPings(_ role: WebSocketRole) {
        var configuration = WebSocketConnection.Configuration()
        configuration.pingPolicy = .manual
        var connection = WebSocketConnection(role: role, configuration: configuration)
        let result = receive(frame(.ping, [1], mask: key(for: peer(of: role))), into: &connection)
        #expect(result.items == [.ping([1])])
        #expect(!connection.hasPendingOutput)
    }

    @Test(arguments: roles)
    func peerInitiatedCloseIsEchoedAndEndsTheConnection(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        var connection = WebSocketConnection(role: role)
        let stream = frame(.close, [0x0F, 0xA0] + Array("done".utf8), mask: mask) + frame(.text, Array("ignored".utf8), mask: mask) + [0xFF, 0xFF]
        let result = receive(stream, into: &connection)
        #expect(result.error == nil)
        #expect(result.items == [.close(WebSocketCloseCode(4000), "done")])
        // The reply is already in the output: nothing is left to do but write it.
        #expect(connection.state == .closed)
        #expect(connection.nextDeadline == nil)
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(receive(out, as: peer(of: role)).items == [.close(WebSocketCloseCode(4000), "")])
        // Data after the close is ignored, and nothing more may be sent.
        #expect(receive(frame(.text, [0x61], mask: mask), into: &connection).items.isEmpty)
        #expect(throws: WebSocketUsageError.sendNotAllowed) { try connection.send(.text, bytes: [0x61]) }
    }

    @Test(arguments: roles)
    func emptyCloseIsAnsweredWithAnEmptyClose(_ role: WebSocketRole) {
        var connection = WebSocketConnection(role: role)
        #expect(receive(frame(.close, [], mask: key(for: peer(of: role))), into: &connection).items == [.close(nil, "")])
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(decodeFrames(out, as: peer(of: role)).frames.first?.0.payloadLength == 0)
    }

    @Test(arguments: roles)
    func locallyInitiatedCloseStillDeliversDataUntilThePeerCloses(_ role: WebSocketRole) throws {
        let mask = key(for: peer(of: role))
        var connection = WebSocketConnection(role: role)
        try connection.sendClose(code: .goingAway, now: 0)
        #expect(connection.state == .closeSent)
        _ = output(of: &connection)
        let result = receive(frame(.text, Array("late".utf8), mask: mask) + frame(.close, [0x03, 0xE9], mask: mask), into: &connection)
        #expect(result.items == [.message(.text, Array("late".utf8)), .close(.goingAway, "")])
        #expect(connection.state == .closed)
        #expect(!connection.hasPendingOutput)
        #expect(throws: WebSocketUsageError.closeAlreadySent) { try connection.sendClose(code: .normalClosure, now: 0) }
    }

    static let invalidCodes: [UInt16] = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
    static let validCodes: [UInt16] = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]

    @Test(arguments: roles, invalidCodes)
    func rejectsEveryInvalidCloseCodeRange(_ role: WebSocketRole, _ code: UInt16) {
        var connection = WebSocketConnection(role: role)
        let result = receive(frame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)], mask: key(for: peer(of: role))), into: &connection)
        #expect(result.error?.rule == .invalidCloseCode)
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(decodeFrames(out, as: peer(of: role)).frames.first?.1 == [0x03, 0xEA])  // 1002
    }

    @Test(arguments: roles, validCodes)
    func acceptsEveryValidCloseCode(_ role: WebSocketRole, _ code: UInt16) {
        let result = receive(frame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)], mask: key(for: peer(of: role))), as: role)
        #expect(result.items == [.close(WebSocketCloseCode(code), "")])
    }

    @Test(arguments: invalidCodes)
    func neverSendsAnInvalidCode(_ code: UInt16) {
        var connection = WebSocketConnection(role: .client)
        #expect(throws: WebSocketUsageError.invalidCloseCode) { try connection.sendClose(code: WebSocketCloseCode(code), now: 0) }
        #expect(!connection.hasPendingOutput)
        #expect(connection.state == .open)
    }

    @Test(arguments: roles)
    func rejectsOneByteClosePayloadAndBadReasons(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        #expect(receive(frame(.close, [0x03], mask: mask), as: role).error?.rule == .closePayloadTooShort)
        var connection = WebSocketConnection(role: role)
        #expect(receive(frame(.close, [0x03, 0xE8, 0xCE, 0xBA, 0xFF], mask: mask), into: &connection).error?.rule == .invalidCloseReason)
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(decodeFrames(out, as: peer(of: role)).frames.first?.1 == [0x03, 0xEF])  // 1007
        #expect(receive(frame(.close, [0x03, 0xE8, 0xE2, 0x82], mask: mask), as: role).error?.rule == .invalidCloseReason)
    }

    @Test func refusesReasonsThatDoNotFit() {
        var connection = WebSocketConnection(role: .server)
        #expect(throws: WebSocketUsageError.invalidCloseReason) { try connection.sendClose(code: .normalClosure, reason: String(repeating: "x", count: 124), now: 0) }
        #expect(throws: WebSocketUsageError.invalidCloseReason) { try connection.sendClose(code: nil, reason: "why", now: 0) }
    }
}

@Suite struct FailureReplies {
    @Test func messagesCompleteBeforeABadFrameAreAnsweredBeforeTheClose() throws {
        var connection = WebSocketConnection(role: .server)
        let mask = key(for: .client)
        var echo = Echo()
        let stream = frame(.text, Array("hi".utf8), mask: mask) + frame(.text, [1], reserved: .rsv2, mask: mask)
        let error = stream.withUnsafeBytes { bytes in
            Result { () throws(WebSocketError) in try connection.receive(bytes, now: 0, handler: &echo) }
        }
        #expect(throws: WebSocketError(.reservedBitsSet, offset: 8)) { try error.get() }
        #expect(connection.state == .failed(WebSocketError(.reservedBitsSet, offset: 8)))
        // The echo the handler sent inline leaves before the Close that reports the failure.
        #expect(receive(output(of: &connection), as: .client).items == [.message(.text, Array("hi".utf8)), .close(.protocolError, "")])
        #expect(throws: WebSocketUsageError.sendNotAllowed) { try connection.send(.text, bytes: []) }
    }
}
