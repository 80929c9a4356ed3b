import EpsilonHPACK
import EpsilonHTTP2
import Testing

/// h2c: HTTP/2 over cleartext TCP by prior knowledge (the preface) or by HTTP/1.1 Upgrade
/// (RFC 7540 §3.2, kept by RFC 9113 §3.1 for existing deployments).
@Suite struct H2C {
    @Test func priorKnowledgeClientAndServerTalk() throws {
        var client = HTTP2Connection(role: .client)
        var server = HTTP2Connection(role: .server)
        let id = try client.startRequest(Wire.request, endStream: true)
        let atServer = try server.receive(client.takeOutput(), now: 0)
        #expect(atServer.contains(.headers(streamID: id, Wire.request, endStream: true)))
        try server.sendHeaders(streamID: id, [HPACKHeaderField(":status", "200")], endStream: false)
        try server.sendData(streamID: id, Array("ok".utf8), endStream: true)
        let atClient = try client.receive(server.takeOutput(), now: 0)
        #expect(atClient.contains(.data(streamID: id, Array("ok".utf8), endStream: true)))
        _ = try server.receive(client.takeOutput(), now: 0)  // SETTINGS ACK
        #expect(client.activeStreamCount == 0 && server.activeStreamCount == 0)
    }

    @Test func upgradeCarriesSettingsAndAnswersStreamOne() throws {
        var configuration = HTTP2Configuration()
        configuration.initialWindowSize = 1_000
        configuration.maxConcurrentStreams = 7
        let header = HTTP2Connection.upgradeSettingsHeaderValue(configuration: configuration)
        #expect(!header.contains("=") && !header.contains("+") && !header.contains("/"))
        // The client sent `GET / HTTP/1.1 ... Upgrade: h2c, HTTP2-Settings: <header>`, the
        // server answered 101; both switch to HTTP/2.
        var server = try HTTP2Connection(upgradedServerWith: HTTP2Configuration(), http2Settings: header)
        #expect(server.peerSettings.initialWindowSize == 1_000)
        #expect(server.peerSettings.maxConcurrentStreams == 7)
        var client = HTTP2Connection(upgradedClientWith: configuration)
        _ = try server.receive(client.takeOutput(), now: 0)
        try server.sendHeaders(streamID: 1, [HPACKHeaderField(":status", "200")], endStream: false)
        #expect(try server.sendData(streamID: 1, Array(repeating: 0x61, count: 1_500), endStream: true) == 1_000)
        let events = try client.receive(server.takeOutput(), now: 0)
        #expect(events.contains(.headers(streamID: 1, [HPACKHeaderField(":status", "200")], endStream: false)))
        #expect(events.contains(.data(streamID: 1, Array(repeating: 0x61, count: 1_000), endStream: false)))
        // The next request from the upgraded client is stream 3.
        #expect(try client.startRequest(Wire.request, endStream: true) == 3)
    }

    @Test func upgradeWithABadSettingsHeaderIsRefused() {
        #expect(throws: HTTP2ConnectionError.self) { _ = try HTTP2Connection(upgradedServerWith: HTTP2Configuration(), http2Settings: "not base64!") }
        // 0x0002 = 2: ENABLE_PUSH out of range.
        #expect(throws: HTTP2ConnectionError.self) { _ = try HTTP2Connection(upgradedServerWith: HTTP2Configuration(), http2Settings: "AAIAAAAC") }
    }
}

/// No input, however hostile, traps: random frames of every type at both roles.
@Suite struct Robustness {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomFrame(_ random: inout Generator) -> [UInt8] {
        let type = HTTP2FrameType(rawValue: UInt8.random(in: 0...11, using: &random))
        let flags = UInt8.random(in: 0...255, using: &random)
        let stream = [0, 1, 2, 3, 5, UInt32.random(in: 0...20, using: &random), 0x7fff_ffff].randomElement(using: &random)!
        let length = [0, 1, 4, 5, 6, 8, Int.random(in: 0...64, using: &random)].randomElement(using: &random)!
        var payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
        if type == .headers, Bool.random(using: &random) { payload = Wire.block(Wire.request) }
        return Wire.frame(type, flags: flags, stream: stream, payload)
    }

    @Test(arguments: [HTTP2Connection.Role.server, .client])
    func randomFramesNeverTrap(role: HTTP2Connection.Role) {
        var random = Generator(state: role == .server ? 1 : 2)
        var errors = 0
        for _ in 0..<3_000 {
            var machine = HTTP2Connection(role: role)
            var input = (role == .server ? HTTP2Connection.clientPreface : []) + Wire.settings()
            if role == .client { _ = try? machine.startRequest(Wire.request, endStream: false) }
            for _ in 0..<Int.random(in: 1...12, using: &random) { input += Self.randomFrame(&random) }
            var collector = HTTP2EventCollector()
            // Random splits, too.
            var offset = 0
            while offset < input.count {
                let size = Int.random(in: 1...max(1, input.count - offset), using: &random)
                do {
                    try machine.receive(Array(input[offset..<(offset + size)]), now: 0, handler: &collector)
                } catch {
                    errors += 1
                    #expect(wireFrames(machine.takeOutput()).last?.type == .goaway)
                    break
                }
                offset += size
            }
        }
        #expect(errors > 100)
    }
}
