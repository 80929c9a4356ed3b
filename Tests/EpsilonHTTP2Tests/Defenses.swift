import EpsilonHPACK
@testable import EpsilonHTTP2
import Testing

/// Each defense: the attack sent as raw bytes, the bounded reaction asserted.
@Suite struct Defenses {
    @Test func rapidResetEndsWithEnhanceYourCalm() {
        var configuration = HTTP2Configuration()
        configuration.maxResetsPerWindow = 50
        var harness = ServerHarness(configuration)
        var attack: [UInt8] = []
        for index in 0..<60 {
            let id = UInt32(2 * index + 1)
            attack += Wire.headers(id, endStream: false) + Wire.rst(id)
        }
        let reaction = harness.send(attack, now: 1_000)
        expectConnectionError(reaction, .enhanceYourCalm)
        #expect(reaction.error?.rule == .rapidReset)
        // The 51st reset tripped it: 51 streams seen, 0 left open.
        #expect(reaction.goaway?.lastStreamID == 101)
        #expect(harness.server.activeStreamCount == 0)
    }

    @Test func resetsSpreadOverTimeAreAllowed() {
        var configuration = HTTP2Configuration()
        configuration.maxResetsPerWindow = 10
        var harness = ServerHarness(configuration)
        for index in 0..<40 {
            let id = UInt32(2 * index + 1)
            // One reset every 200 ms: 5 per one-second window.
            let reaction = harness.send(Wire.headers(id, endStream: false) + Wire.rst(id), now: UInt64(index) * 200_000_000)
            #expect(reaction.error == nil)
        }
    }

    @Test func resetsWeSendForPeerErrorsCountToo() {
        var configuration = HTTP2Configuration()
        configuration.maxResetsPerWindow = 5
        var harness = ServerHarness(configuration)
        var attack: [UInt8] = []
        for index in 0..<6 {
            attack += Wire.headers(UInt32(2 * index + 1), Wire.request + [HPACKHeaderField("connection", "close")])
        }
        let reaction = harness.send(attack)
        expectConnectionError(reaction, .enhanceYourCalm)
        #expect(reaction.frames.filter { $0.type == .rstStream }.count == 6)
    }

    @Test func refusedStreamsCountAsResets() {
        var configuration = HTTP2Configuration()
        configuration.maxConcurrentStreams = 1
        configuration.maxResetsPerWindow = 20
        var harness = ServerHarness(configuration)
        var attack = Wire.headers(1, endStream: false)
        for index in 1...30 { attack += Wire.headers(UInt32(2 * index + 1), endStream: false) }
        let reaction = harness.send(attack)
        expectConnectionError(reaction, .enhanceYourCalm)
        #expect(reaction.frames.filter { $0.type == .rstStream && $0.errorCode == .refusedStream }.count == 21)
    }

    @Test func continuationFloodOfEmptyFramesIsBoundedByCount() {
        var harness = ServerHarness()
        var attack = Wire.headers(1, block: [0x82], endStream: true, endHeaders: false)
        for _ in 0..<100 { attack += Wire.continuation(1, [], endHeaders: false) }
        let reaction = harness.send(attack)
        expectConnectionError(reaction, .enhanceYourCalm)
        #expect(reaction.error?.rule == .tooManyContinuations)
        #expect(reaction.events.isEmpty)
    }

    @Test func continuationFloodIsBoundedBySize() {
        var configuration = HTTP2Configuration()
        configuration.maxHeaderBlockSize = 20_000
        configuration.maxContinuationFrames = 1_000
        var harness = ServerHarness(configuration)
        var attack = Wire.headers(1, block: [0x82], endStream: true, endHeaders: false)
        for _ in 0..<10 { attack += Wire.continuation(1, Array(repeating: 0x82, count: 4_000), endHeaders: false) }
        let reaction = harness.send(attack)
        expectConnectionError(reaction, .enhanceYourCalm)
        #expect(reaction.error?.rule == .headerBlockTooLarge)
    }

    @Test func eightContinuationsAreStillAccepted() {
        var harness = ServerHarness()
        let block = Wire.block(Wire.request)
        var bytes = Wire.headers(1, block: Array(block.prefix(1)), endHeaders: false)
        let rest = Array(block.dropFirst())
        for index in 0..<8 {
            let part = index == 7 ? Array(rest.dropFirst(7)) : [rest[index]]
            bytes += Wire.continuation(1, part, endHeaders: index == 7)
        }
        let reaction = harness.send(bytes)
        expectAccepted(reaction)
        #expect(reaction.events.count == 1)
    }

    @Test func hpackBombStopsAtTheHeaderListLimit() {
        var configuration = HTTP2Configuration()
        configuration.maxHeaderListSize = 4_096
        var harness = ServerHarness(configuration)
        // One 3 000-octet field enters the table, then is referenced by index many times:
        // a small block that would decode to megabytes.
        var block: [UInt8] = [0x82, 0x84, 0x86, 0x41, 1, 0x61, 0x40, 0x01, 0x78]
        HPACKPrimitive.appendInteger(3_000, prefixBits: 7, flags: 0, to: &block)
        block += Array(repeating: 0x62, count: 3_000)
        block += Array(repeating: 0xbe, count: 2_000)
        let reaction = harness.send(Wire.headers(1, block: block))
        expectConnectionError(reaction, .compressionError)
        #expect(reaction.events.isEmpty)
    }

    @Test func settingsFloodIsBoundedByPendingAcks() {
        var configuration = HTTP2Configuration()
        configuration.maxPendingSettingsAcks = 20
        var harness = ServerHarness(configuration)
        let reaction = harness.send(Array(repeating: Wire.settings(), count: 21).flatMap { $0 })
        expectConnectionError(reaction, .enhanceYourCalm)
        #expect(reaction.error?.rule == .settingsFlood)
        #expect(reaction.frames.filter { $0.type == .settings }.count == 21)
        // Flushing between bursts lets a well-behaved peer go on.
        var calm = ServerHarness(configuration)
        for _ in 0..<10 { expectAccepted(calm.send(Array(repeating: Wire.settings(), count: 20).flatMap { $0 })) }
    }

    @Test func pingFloodIsBoundedByPendingAcks() {
        var configuration = HTTP2Configuration()
        configuration.maxPendingPingAcks = 10
        var harness = ServerHarness(configuration)
        let reaction = harness.send(Array(repeating: Wire.ping(), count: 11).flatMap { $0 })
        expectConnectionError(reaction, .enhanceYourCalm)
        #expect(reaction.error?.rule == .pingFlood)
        #expect(reaction.frames.filter { $0.type == .ping }.count == 11)
    }

    @Test func emptyDataFloodEndsWithEnhanceYourCalm() {
        var configuration = HTTP2Configuration()
        configuration.maxEmptyFramesPerWindow = 30
        var harness = ServerHarness(configuration)
        _ = harness.send(Wire.headers(1, endStream: false))
        let reaction = harness.send(Array(repeating: Wire.data(1, []), count: 31).flatMap { $0 })
        expectConnectionError(reaction, .enhanceYourCalm)
        #expect(reaction.error?.rule == .emptyFrameFlood)
        #expect(reaction.events.count == 30)
    }

    @Test func windowUpdateOverflowIsAFlowControlError() {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        expectStreamError(harness.send(Wire.windowUpdate(1, 0x7fff_0000) + Wire.windowUpdate(1, 0x7fff_0000)), 1, .flowControlError)
        expectConnectionError(harness.send(Wire.windowUpdate(0, 0x7fff_0000) + Wire.windowUpdate(0, 0x7fff_0000)), .flowControlError)
    }

    @Test func priorityFloodEndsWithEnhanceYourCalm() {
        var configuration = HTTP2Configuration()
        configuration.maxPriorityFramesPerWindow = 100
        var harness = ServerHarness(configuration)
        // PRIORITY frames for idle streams create no state: memory stays flat until the bound.
        let attack = (0..<101).flatMap { Wire.priority(UInt32(2 * $0 + 1), dependsOn: 0) }
        let reaction = harness.send(attack)
        expectConnectionError(reaction, .enhanceYourCalm)
        #expect(reaction.error?.rule == .priorityFlood)
        #expect(harness.server.activeStreamCount == 0)
    }

    @Test func streamIdentifiersRunOut() throws {
        var client = HTTP2Connection(role: .client)
        _ = try client.receive(Wire.settings(), now: 0)
        // Opening 2^30 streams to get here takes minutes; start at the last identifier.
        client.nextLocalStreamID = 0x7fff_fffd
        #expect(try client.startRequest(Wire.request, endStream: true) == 0x7fff_fffd)
        #expect(try client.startRequest(Wire.request, endStream: true) == 0x7fff_ffff)
        #expect(throws: HTTP2UsageError.streamIDsExhausted) { _ = try client.startRequest(Wire.request, endStream: true) }
        // A server that saw the highest identifier refuses to go back below it.
        var harness = ServerHarness()
        expectAccepted(harness.send(Wire.headers(0x7fff_ffff)))
        expectConnectionError(harness.send(Wire.headers(0x7fff_fffd)), .protocolError)
    }

    @Test func peerStreamsPerConnectionAreBounded() {
        var configuration = HTTP2Configuration()
        configuration.maxStreamsPerConnection = 3
        var harness = ServerHarness(configuration)
        let reaction = harness.send(Wire.headers(1) + Wire.headers(3) + Wire.headers(5) + Wire.headers(7))
        #expect(reaction.events.filter { if case .headers = $0 { true } else { false } }.count == 3)
        #expect(reaction.reset(7) == .refusedStream)
        #expect(reaction.goaway?.lastStreamID == 5)
        #expect(reaction.goaway?.errorCode == .noError)
        #expect(reaction.error == nil)
    }

    @Test func memoryStaysBoundedUnderAMixedFlood() {
        // Thousands of frames of every cheap kind, each bound just high enough not to trip:
        // the machine's buffers must not grow with the attack.
        var configuration = HTTP2Configuration()
        configuration.maxPriorityFramesPerWindow = .max
        configuration.maxResetsPerWindow = .max
        var harness = ServerHarness(configuration)
        for round in 0..<200 {
            var burst: [UInt8] = []
            for index in 0..<10 {
                let id = UInt32((round * 10 + index) * 2 + 1)
                burst += Wire.headers(id, endStream: false) + Wire.priority(id + 2, dependsOn: 0) + Wire.rst(id) + Wire.ping()
            }
            let reaction = harness.send(burst, now: UInt64(round))
            #expect(reaction.error == nil)
        }
        #expect(harness.server.activeStreamCount == 0)
        #expect(harness.server.pendingOutputCount == 0)
    }
}
