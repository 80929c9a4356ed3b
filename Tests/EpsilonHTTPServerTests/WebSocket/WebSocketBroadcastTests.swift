@testable import EpsilonHTTPServer
import EpsilonWebSocket
import Testing

/// Broadcast groups over in-memory connections (each its own "loop"): every member gets the
/// same bytes, compressed once for members without context takeover, and a full member
/// does not stop the others.
@Suite struct WebSocketBroadcastTests {
    static func members(_ count: Int, group: WebSocketBroadcastGroup, options: WebSocketRouteOptions = WebSocketRouteOptions(),
                        extensions: String = "") throws -> (servers: [MemoryServer], log: TestWebSocketLog) {
        let log = TestWebSocketLog()
        var router = HTTPRouter()
        try router.webSocket("/ws", options: options, inline: { _ in TestHoldingHandler(log: log, group: group) })
        var servers: [MemoryServer] = []
        for _ in 0..<count {
            let server = MemoryServer(router: router)
            _ = try #require(server.upgrade(extra: extensions))
            servers.append(server)
        }
        return (servers, log)
    }

    @Test func aPublishedMessageReachesEveryMemberOnce() throws {
        let group = WebSocketBroadcastGroup(name: "room")
        let (servers, _) = try Self.members(50, group: group)
        #expect(group.memberCount == 50)
        group.publish(text: "to all")
        for server in servers { server.io.runTasks() }
        for server in servers {
            let frames = WebSocketTestClient.frames(server.io.takeOutput())
            #expect(frames.count == 1)
            #expect(frames.first.map { String(decoding: $0.payload, as: UTF8.self) } == "to all")
        }
    }

    @Test func membersWithoutContextTakeoverGetTheSameCompressedFrame() throws {
        let group = WebSocketBroadcastGroup(name: "room")
        let (servers, _) = try Self.members(
            5, group: group, extensions: "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n")
        let message = String(repeating: "compress me ", count: 100)
        group.publish(text: message)
        var outputs: [[UInt8]] = []
        for server in servers {
            server.io.runTasks()
            outputs.append(server.io.takeOutput())
        }
        #expect(Set(outputs).count == 1)
        let frame = try #require(WebSocketTestClient.frames(outputs[0]).first)
        #expect(frame.rsv1)
        #expect(frame.payload.count < message.utf8.count / 4)
    }

    @Test func aFullMemberIsClosedWhileTheOthersReceive() throws {
        var options = WebSocketRouteOptions()
        options.maxQueuedBytes = 10_000
        options.backpressure = .close(WebSocketCloseCode(1013))
        let group = WebSocketBroadcastGroup(name: "room")
        let (servers, _) = try Self.members(4, group: group, options: options)
        servers[0].io.simulatedPendingBytes = 1 << 20
        for _ in 0..<3 { group.publish(binary: [UInt8](repeating: 1, count: 500)) }
        for server in servers { server.io.runTasks() }
        let slow = WebSocketTestClient.frames(servers[0].io.takeOutput())
        #expect(slow.map(\.opcode) == [8])
        #expect(WebSocketTestClient.closeCode(slow) == 1013)
        for server in servers.dropFirst() {
            #expect(WebSocketTestClient.frames(server.io.takeOutput()).map(\.opcode) == [2, 2, 2])
        }
    }

    @Test func aClosedMemberLeavesItsGroups() throws {
        let group = WebSocketBroadcastGroup(name: "room")
        let (servers, _) = try Self.members(3, group: group)
        servers[1].send(WebSocketTestClient.frame(8, [0x03, 0xE8]))
        #expect(servers[1].io.isClosed)
        // The other two servers must outlive the count: optimised code ends their lifetime
        // after their last use, and a server that goes away closes its connection.
        withExtendedLifetime(servers) {
            #expect(group.memberCount == 2)
        }
    }
}
