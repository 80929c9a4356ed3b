import EpsilonWebSocket
import Testing

/// Echoes every message from inside `handle`, as a server built on the verbs does.
struct Echo: WebSocketEventHandler {
    var kind: WebSocketMessageKind = .binary
    var message: [UInt8] = []
    var closeReply: WebSocketCloseCode?

    mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) {
        switch event {
        case .messageBegan(let kind, _):
            self.kind = kind
            message.removeAll(keepingCapacity: true)
        case .messageData(let view):
            message.append(contentsOf: view.bytes)
        case .messageEnded:
            try? message.withUnsafeBytes { try connection.send(kind, payload: $0) }
        case .close where closeReply != nil:
            try? connection.sendClose(code: closeReply, reason: "own", now: connection.time)
        default:
            break
        }
    }
}

/// Fails the connection when a message says "reject".
struct Rejecting: WebSocketEventHandler {
    var echo = Echo()
    mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) {
        if case .messageEnded = event, echo.message == Array("reject".utf8) {
            throw WebSocketError(.rejectedByApplication(.policyViolation), offset: connection.currentFrameOffset)
        }
        try echo.handle(event, connection: &connection)
    }
}

func drive(_ connection: inout WebSocketConnection, _ stream: [UInt8], handler: inout some WebSocketEventHandler, chunk: Int = .max, now: UInt64 = 0) -> WebSocketError? {
    stream.withUnsafeBytes { all in
        var start = 0
        while start < all.count {
            let end = all.count - start > chunk ? start + chunk : all.count
            do throws(WebSocketError) {
                try connection.receive(UnsafeRawBufferPointer(rebasing: all[start..<end]), now: now, handler: &handler)
            } catch {
                return error
            }
            start = end
        }
        return nil
    }
}

/// "Driving a machine": frames leave in the order of the input that caused them.
@Suite struct OutputOrder {
    static let roles: [WebSocketRole] = [.client, .server]

    @Test(arguments: roles)
    func aPongForAPingBeforeAMessageLeavesBeforeItsEcho(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        let stream = frame(.ping, Array("p1".utf8), mask: mask) + frame(.text, Array("one".utf8), mask: mask)
            + frame(.binary, [1], fin: false, mask: mask) + frame(.ping, Array("p2".utf8), mask: mask)
            + frame(.continuation, [2], mask: mask) + frame(.ping, Array("p3".utf8), mask: mask)
        let expected: [WebSocketMessageCollector.Item] = [
            .pong(Array("p1".utf8)), .message(.text, Array("one".utf8)), .pong(Array("p2".utf8)),
            .message(.binary, [1, 2]), .pong(Array("p3".utf8)),
        ]
        // However the reads are chopped, the output is the same.
        for chunk in [1, 3, 7, 1000] {
            var connection = WebSocketConnection(role: role)
            var echo = Echo()
            #expect(drive(&connection, stream, handler: &echo, chunk: chunk) == nil)
            #expect(receive(output(of: &connection), as: peer(of: role)).items == expected, "chunk \(chunk)")
        }
    }

    @Test(arguments: roles)
    func theCloseReplyFollowsTheEchoesOfEarlierMessages(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        var connection = WebSocketConnection(role: role)
        var echo = Echo()
        let stream = frame(.text, Array("last".utf8), mask: mask) + frame(.close, [0x03, 0xE8], mask: mask)
        #expect(drive(&connection, stream, handler: &echo) == nil)
        #expect(connection.state == .closed)
        #expect(receive(output(of: &connection), as: peer(of: role)).items == [.message(.text, Array("last".utf8)), .close(.normalClosure, "")])
    }

    @Test(arguments: roles)
    func aHandlerMayAnswerTheCloseItself(_ role: WebSocketRole) {
        var connection = WebSocketConnection(role: role)
        var echo = Echo(closeReply: .goingAway)
        #expect(drive(&connection, frame(.close, [0x03, 0xE8], mask: key(for: peer(of: role))), handler: &echo) == nil)
        #expect(connection.state == .closed)
        #expect(receive(output(of: &connection), as: peer(of: role)).items == [.close(.goingAway, "own")])
    }

    @Test(arguments: roles)
    func aHandlerErrorFailsTheConnectionAfterWhatWasAlreadySent(_ role: WebSocketRole) {
        let mask = key(for: peer(of: role))
        var connection = WebSocketConnection(role: role)
        var handler = Rejecting()
        let first = frame(.text, Array("fine".utf8), mask: mask)
        let stream = first + frame(.text, Array("reject".utf8), mask: mask) + frame(.text, Array("never".utf8), mask: mask)
        let error = drive(&connection, stream, handler: &handler)
        #expect(error == WebSocketError(.rejectedByApplication(.policyViolation), offset: first.count))
        #expect(error?.section == "RFC 6455 §7.4.1")
        #expect(receive(output(of: &connection), as: peer(of: role)).items == [.message(.text, Array("fine".utf8)), .close(.policyViolation, "")])
        // A failure sticks.
        #expect(drive(&connection, frame(.ping, [], mask: mask), handler: &handler) == error)
    }

    @Test func thePongBoundWithdrawsTheOlderPongAndKeepsTheLatest() {
        var configuration = WebSocketConnection.Configuration()
        configuration.maxQueuedPongBytes = 100
        var connection = WebSocketConnection(role: .server, configuration: configuration)
        var echo = Echo()
        let mask = key(for: .client)
        var stream: [UInt8] = []
        for i in 0..<5 { stream += frame(.ping, [UInt8](repeating: UInt8(i), count: 40), mask: mask) + frame(.text, [0x61 + UInt8(i)], mask: mask) }
        #expect(drive(&connection, stream, handler: &echo) == nil)
        let items = receive(output(of: &connection), as: .client).items
        // Every echo is there, in order; Pongs 0 and 4 are answered, the ones between withdrawn.
        #expect(items.filter { if case .message = $0 { true } else { false } } == (0..<5).map { .message(.text, [0x61 + UInt8($0)]) })
        #expect(items.first == .pong([UInt8](repeating: 0, count: 40)))
        #expect(items.contains(.pong([UInt8](repeating: 4, count: 40))))
        #expect(items.filter { if case .pong = $0 { true } else { false } }.count == 2)
    }
}

/// The verbs' shapes: immutable input, everything consumed, RawSpan, writeOutput.
@Suite struct ReceiveVerb {
    @Test func neverWritesToTheCallersBytesAndConsumesEverything() throws {
        // A masked frame split inside its header and payload: the input stays masked.
        let stream = hex("818537fa213d7f9f4d5158") + hex("81")
        var connection = WebSocketConnection(role: .server)
        var collector = WebSocketMessageCollector()
        for cut in [0, 1, 3, 7, stream.count] {
            let original = stream
            let consumed = try stream.withUnsafeBytes { all throws(WebSocketError) in
                try connection.receive(UnsafeRawBufferPointer(rebasing: all[..<cut]), now: 0, handler: &collector)
                    + connection.receive(UnsafeRawBufferPointer(rebasing: all[cut...]), now: 0, handler: &collector)
            }
            #expect(consumed == stream.count)
            #expect(stream == original)
            connection = WebSocketConnection(role: .server)
        }
        #expect(collector.items == Array(repeating: .message(.text, Array("Hello".utf8)), count: 5))
    }

    @Test func takesARawSpan() throws {
        let stream = hex("818537fa213d7f9f4d5158")
        var connection = WebSocketConnection(role: .server)
        var collector = WebSocketMessageCollector()
        let consumed = try connection.receive(stream.span.bytes, now: 0, handler: &collector)
        #expect(consumed == stream.count)
        #expect(collector.items == [.message(.text, Array("Hello".utf8))])
    }

    @Test func largeMaskedPayloadsArriveUnmaskedInPieces() {
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let stream = frame(.binary, payload, mask: 0xA1B2_C3D4)
        for chunk in [1000, 70_000, .max] {
            let result = receive(stream, as: .server, chunk: chunk)
            #expect(result.error == nil)
            #expect(result.items == [.message(.binary, payload)])
        }
    }

    @Test func writeOutputAppendsAfterWhatTheBufferHolds() throws {
        var connection = WebSocketConnection(role: .server)
        try connection.send(.text, bytes: Array("a".utf8))
        var buffer: [UInt8] = [0xEE]
        connection.writeOutput(into: &buffer)
        #expect(buffer == [0xEE, 0x81, 0x01, 0x61])
        #expect(!connection.hasPendingOutput)
        try connection.send(.text, bytes: Array("b".utf8))
        var empty: [UInt8] = []
        connection.writeOutput(into: &empty)
        #expect(empty == [0x81, 0x01, 0x62])
    }

    @Test func peerErrorsNameTheirSection() {
        let result = receive(hex("810548656c6c6f"), as: .server)
        #expect(result.error == WebSocketError(.unmaskedClientFrame, offset: 1))
        #expect(result.error?.section == "RFC 6455 §5.1")
        #expect(receive(frame(.text, [0xFF], mask: 1), as: .server).error?.section == "RFC 6455 §8.1")
    }
}

/// RFC 6455 §7.1.1: after our Close the peer has `closeTimeout` to answer.
@Suite struct CloseTimer {
    @Test func runsFromOurCloseUntilThePeerAnswersOrTimeRunsOut() throws {
        var connection = WebSocketConnection(role: .server)
        #expect(connection.nextDeadline == nil)
        try connection.sendClose(code: .normalClosure, now: 1_000)
        #expect(connection.nextDeadline == 1_000 + 5_000_000_000)
        connection.handleTimeouts(now: 1_000 + 4_999_999_999)
        #expect(connection.state == .closeSent)
        connection.handleTimeouts(now: 1_000 + 5_000_000_000)
        #expect(connection.state == .closed)
        #expect(connection.closeTimedOut)
        #expect(connection.nextDeadline == nil)
    }

    @Test func stopsWhenThePeerAnswers() throws {
        var configuration = WebSocketConnection.Configuration()
        configuration.closeTimeout = 100
        var connection = WebSocketConnection(role: .client, configuration: configuration)
        try connection.sendClose(code: .normalClosure, now: 50)
        #expect(connection.nextDeadline == 150)
        var collector = WebSocketMessageCollector()
        #expect(drive(&connection, frame(.close, [0x03, 0xE8]), handler: &collector, now: 120) == nil)
        #expect(connection.state == .closed)
        #expect(connection.nextDeadline == nil)
        connection.handleTimeouts(now: 1_000)
        #expect(!connection.closeTimedOut)
    }

    @Test func noTimerRunsWhileOpenOrAfterAFailure() {
        var connection = WebSocketConnection(role: .server)
        var collector = WebSocketMessageCollector()
        #expect(drive(&connection, hex("810548656c6c6f"), handler: &collector) != nil)
        #expect(connection.nextDeadline == nil)
        connection.handleTimeouts(now: .max)
        #expect(!connection.closeTimedOut)
    }
}
