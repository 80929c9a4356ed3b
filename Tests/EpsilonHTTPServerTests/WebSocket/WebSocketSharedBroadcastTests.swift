@testable import EpsilonHTTPServer
import EpsilonTransport
import EpsilonWebSocket
import Foundation
import Testing

/// Joins a group and publishes every message it receives to it (the chat shape).
final class TestRelayHandler: WebSocketInlineHandler {
    let group: WebSocketBroadcastGroup

    init(group: WebSocketBroadcastGroup) { self.group = group }

    func opened(_ socket: WebSocketInlineSocket) { socket.join(group) }

    func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, socket: WebSocketInlineSocket) {
        socket.publish(kind, payload, to: group)
    }
}

/// Broadcast over real sockets, where each member's write queue references the one shared
/// frame (frames above the copy limit) or copies it (small ones): every member gets every
/// frame whole and in order, whether published from another thread or from a member's loop.
extension SocketSuites {
@Suite struct WebSocketSharedBroadcastTests {
    /// Payloads around the shared-segment copy limit and beyond a write-queue chunk.
    static let payloads: [[UInt8]] = [100, 300, 70_000, 5, 2_000, 200_000, 256, 257].enumerated().map { index, count in
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index &* 7 &+ ($0 >> 9)) }
    }

    @Test func everyMemberGetsEveryFrameInOrder() async throws {
        let group = WebSocketBroadcastGroup(name: "shared")
        var router = HTTPRouter()
        var options = WebSocketRouteOptions()
        options.maxQueuedBytes = 8 << 20
        try router.webSocket("/ws", options: options, inline: { _ in TestRelayHandler(group: group) })
        let loops = try IOLoopGroup(loopCount: 2)
        let server = try await HTTPServer.start(on: loops, address: .ipv4("127.0.0.1", port: 0), router: router)
        let port = try #require(server.localAddress.port)
        var clients: [RawSocketClient] = []
        for _ in 0..<5 {
            let client = try RawSocketClient(port: port)
            try client.send(WebSocketTestClient.request())
            #expect(await client.read(until: "\r\n\r\n").hasPrefix("HTTP/1.1 101 "))
            clients.append(client)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while group.memberCount < 5 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(group.memberCount == 5)

        // Published from this thread: one task per loop.
        for payload in Self.payloads { group.publish(binary: payload) }
        for (index, client) in clients.enumerated() {
            let read = await client.read(timeout: .seconds(10)) { WebSocketTestClient.frames($0).count >= Self.payloads.count }
            let frames = WebSocketTestClient.frames(read.bytes)
            #expect(frames.map(\.opcode) == Array(repeating: 2, count: Self.payloads.count), "member \(index)")
            #expect(frames.map(\.payload) == Self.payloads, "member \(index)")
        }

        // Published by a member from its loop (the sender gets its own messages too).
        let relayed = Self.payloads.filter { $0.count < 65_536 }
        for payload in relayed { try clients[0].send(WebSocketTestClient.frame(2, payload)) }
        for (index, client) in clients.enumerated() {
            let read = await client.read(timeout: .seconds(10)) { WebSocketTestClient.frames($0).count >= relayed.count }
            #expect(WebSocketTestClient.frames(read.bytes).map(\.payload) == relayed, "member \(index)")
        }
        await server.shutdown(gracePeriod: .zero)
        await loops.shutdown()
    }
}
}
