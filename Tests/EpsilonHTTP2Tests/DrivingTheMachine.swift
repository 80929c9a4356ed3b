import EpsilonHTTP2
import Testing

/// A server that answers every request from inside `handle`, as an h2c server over a socket
/// does: no queue of answers to replay after `receive` returns. A request with a body is
/// answered once its body has ended; the response body is sent as far as the windows allow
/// and resumed on `windowUpdated`, whatever opened the window.
private struct InlineServer: HTTP2EventHandler {
    var responseBody: [UInt8]
    /// Octets of the response body still to send, per stream.
    var unsent: [UInt32: Int] = [:]
    var requests = 0
    var windowEvents: [UInt32] = []

    init(responseBody: [UInt8] = Array("hello".utf8)) { self.responseBody = responseBody }

    mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) throws(HTTP2ConnectionError) {
        switch event {
        case .headers(let stream, _, let endStream):
            if endStream { answer(stream, &connection) }
        case .data(let stream, _, let endStream):
            if endStream { answer(stream, &connection) }
        case .windowUpdated(let stream, _):
            windowEvents.append(stream)
            for id in unsent.keys.sorted() where stream == 0 || stream == id { resume(id, &connection) }
        default:
            break
        }
    }

    mutating func answer(_ stream: UInt32, _ connection: inout HTTP2Connection) {
        requests += 1
        do {
            try connection.sendHeaders(streamID: stream, [HPACKHeaderField(":status", "200")], endStream: false)
        } catch {
            Issue.record("sendHeaders: \(error)")
        }
        unsent[stream] = responseBody.count
        resume(stream, &connection)
    }

    mutating func resume(_ stream: UInt32, _ connection: inout HTTP2Connection) {
        guard let left = unsent[stream] else { return }
        let body = Array(responseBody.suffix(left))
        do {
            let sent = try connection.sendData(streamID: stream, body, endStream: true)
            unsent[stream] = sent == left ? nil : left - sent
        } catch {
            Issue.record("sendData: \(error)")
        }
    }
}

/// A handler that breaks the contract: it calls `receive` on the connection it was handed.
private struct ReentrantHandler: HTTP2EventHandler {
    mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) throws(HTTP2ConnectionError) {
        var nested = HTTP2EventCollector()
        try connection.receive(Wire.ping(), now: 0, handler: &nested)
    }
}

/// Returns flow-control credit from inside `handle` (manual replenishment), or not.
private struct CreditingHandler: HTTP2EventHandler {
    var credits: Bool
    mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) throws(HTTP2ConnectionError) {
        if credits, case .data(let stream, let bytes, _) = event { connection.consume(streamID: stream, count: bytes.count) }
    }
}

/// A handler that refuses every request head with a connection error.
private struct RefusingHandler: HTTP2EventHandler {
    mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) throws(HTTP2ConnectionError) {
        if case .headers = event { throw HTTP2ConnectionError(.invalidStreamID, code: .refusedStream) }
    }
}

/// The contract of Documentation/DrivingAMachine.md for HTTP/2: answers from inside `handle`,
/// output order, re-entrancy, send capacity, time and error positions.
@Suite struct DrivingTheMachine {
    @Test func h2cServerAnswersInsideHandleWithNoReplayQueue() throws {
        var client = HTTP2Connection(role: .client)
        var server = HTTP2Connection(role: .server)
        var app = InlineServer()
        var clientEvents = HTTP2EventCollector()
        let get = try client.startRequest(Wire.request, endStream: true)
        let post = try client.startRequest(Wire.post(), endStream: false)
        try client.sendData(streamID: post, Array("body".utf8), endStream: true)
        var wire: [UInt8] = []
        client.writeOutput(into: &wire)
        let consumed = try server.receive(wire, now: 1, handler: &app)
        #expect(consumed == wire.count)
        #expect(app.requests == 2)
        wire.removeAll()
        server.writeOutput(into: &wire)
        try client.receive(wire, now: 1, handler: &clientEvents)
        let heads = clientEvents.events.filter { if case .headers = $0 { true } else { false } }
        #expect(heads.count == 2)
        #expect(clientEvents.events.contains(.data(streamID: get, Array("hello".utf8), endStream: true)))
        #expect(clientEvents.events.contains(.data(streamID: post, Array("hello".utf8), endStream: true)))
        #expect(server.activeStreamCount == 0)
    }

    @Test func machineFramesAndHandlerFramesLeaveInInputOrder() throws {
        var server = HTTP2Connection(role: .server)
        var opening: [UInt8] = []
        server.writeOutput(into: &opening)
        var app = InlineServer()
        let input = HTTP2Connection.clientPreface + Wire.settings() + Wire.headers(1) + Wire.ping()
            + Wire.headers(3) + Wire.settings([(0x3, 50)])
        try server.receive(input, now: 0, handler: &app)
        let frames = wireFrames(server.takeOutput()).map { frame in
            let ack = frame.isAck && (frame.type == .settings || frame.type == .ping)
            return "\(frame.type)\(ack ? "+ACK" : "") \(frame.streamID)"
        }
        #expect(frames == [
            "SETTINGS+ACK 0",  // the peer's SETTINGS, acknowledged before HEADERS 1 was read
            "HEADERS 1", "DATA 1",  // the handler's answer to HEADERS 1
            "PING+ACK 0",  // then the PING that followed it
            "HEADERS 3", "DATA 3",
            "SETTINGS+ACK 0",
        ])
    }

    @Test func sendCapacityEventForEveryWayAWindowOpens() throws {
        // The client allows 10 octets per stream at first.
        var harness = ServerHarness(clientSettings: [(0x4, 10)])
        var app = InlineServer(responseBody: Array(repeating: 0x61, count: 40))
        try harness.server.receive(Wire.headers(1), now: 0, handler: &app)
        #expect(app.unsent[1] == 30)
        // A WINDOW_UPDATE on the stream.
        try harness.server.receive(Wire.windowUpdate(1, 5), now: 0, handler: &app)
        #expect(app.windowEvents == [1])
        #expect(app.unsent[1] == 25)
        // A larger SETTINGS_INITIAL_WINDOW_SIZE: the same event, for the stream, with the growth.
        var events = HTTP2EventCollector()
        var copy = harness.server
        try copy.receive(Wire.settings([(0x4, 20)]), now: 0, handler: &events)
        #expect(events.events.last == .windowUpdated(streamID: 1, increment: 10))
        try harness.server.receive(Wire.settings([(0x4, 20)]), now: 0, handler: &app)
        #expect(app.windowEvents == [1, 1])
        #expect(app.unsent[1] == 15)
        // The connection window: stream 0 says every stream may send more (here the stream
        // window still bounds it).
        try harness.server.receive(Wire.windowUpdate(0, 100) + Wire.windowUpdate(1, 100), now: 0, handler: &app)
        #expect(app.windowEvents == [1, 1, 0, 1])
        #expect(app.unsent[1] == nil)
        let data = wireFrames(harness.server.takeOutput()).filter { $0.type == .data }
        #expect(data.reduce(0) { $0 + $1.payload.count } == 40)
        #expect(data.last?.isAck == true)  // END_STREAM on the last DATA (the same bit)
    }

    @Test(arguments: [true, false])
    func creditReturnedInsideHandleLeavesWithThatInput(credits: Bool) throws {
        var configuration = HTTP2Configuration()
        configuration.windowReplenishment = .manual
        var harness = ServerHarness(configuration)
        _ = harness.send(Wire.headers(1, Wire.post(), endStream: false))
        var handler = CreditingHandler(credits: credits)
        let chunk = Array(repeating: UInt8(0x61), count: 16_000)
        try harness.server.receive(Wire.data(1, chunk) + Wire.data(1, chunk) + Wire.data(1, chunk), now: 0, handler: &handler)
        let updates = wireFrames(harness.server.takeOutput()).filter { $0.type == .windowUpdate }
        if credits {
            // Half of each 65 535-octet window owed after the third frame: one update each.
            #expect(updates.map(\.streamID).sorted() == [0, 1])
            #expect(updates.allSatisfy { $0.windowIncrement == 48_000 })
        } else {
            #expect(updates.isEmpty)
        }
    }

    @Test func receiveFromInsideHandleTraps() async {
        await #expect(processExitsWith: .failure) {
            var server = HTTP2Connection(role: .server)
            var handler = ReentrantHandler()
            _ = try? server.receive(HTTP2Connection.clientPreface + Wire.settings(), now: 0, handler: &handler)
        }
    }

    @Test func handlerErrorFailsTheConnectionWithGoaway() {
        var harness = ServerHarness()
        var handler = RefusingHandler()
        #expect(throws: HTTP2ConnectionError.self) {
            try harness.server.receive(Wire.headers(1), now: 0, handler: &handler)
        }
        #expect(harness.server.isClosed)
        #expect(wireFrames(harness.server.takeOutput()).last?.errorCode == .refusedStream)
    }

    @Test func errorsSayWhereTheFrameBeganAndWhichSection() {
        var server = HTTP2Connection(role: .server)
        var events = HTTP2EventCollector()
        // Preface (24) + SETTINGS (9) + PING (17), then a WINDOW_UPDATE of 0 on the connection.
        let input = HTTP2Connection.clientPreface + Wire.settings() + Wire.ping() + Wire.windowUpdate(0, 0)
        // Fed in two pieces, the broken frame split across them: the offset is in the stream.
        do {
            try server.receive(Array(input[..<55]), now: 0, handler: &events)
            try server.receive(Array(input[55...]), now: 0, handler: &events)
            Issue.record("no error")
        } catch {
            #expect(error.offset == 24 + 9 + 17)
            #expect(error.section == "RFC 9113 §6.9")
            #expect(error.code == .protocolError)
        }
        var preface = HTTP2Connection(role: .server)
        do {
            try preface.receive(Array("PRI * HTTP/2.0\r\n\r\nXX".utf8), now: 0, handler: &events)
            Issue.record("no error")
        } catch {
            #expect(error.rule == .invalidPreface)
            #expect(error.offset == 18)
            #expect(error.section == "RFC 9113 §3.4")
        }
    }

    @Test func nextDeadlineIsNilWithoutATimer() throws {
        var harness = ServerHarness()
        _ = harness.send(Wire.settings(ack: true))
        #expect(harness.server.nextDeadline == nil)
        try harness.server.updateSettings([HTTP2SettingsEntry(.maxConcurrentStreams, 10)])
        try harness.server.handleTimeouts(now: 7)
        #expect(harness.server.nextDeadline == 7 + HTTP2Configuration().settingsTimeout + 1)
    }
}
