import EpsilonTransport
import Foundation
import Synchronization
import Testing

/// Sends every datagram back to its sender.
private final class DatagramEcho: DatagramHandler {
    func socket(_ socket: DatagramSocket, didReceive bytes: UnsafeRawBufferPointer, from sender: SocketEndpoint) {
        try? socket.send(bytes, to: sender)
    }
}

/// Collects datagrams into a thread-safe list.
private final class DatagramCollector: DatagramHandler {
    let received: Received
    init(into received: Received) { self.received = received }
    func socket(_ socket: DatagramSocket, didReceive bytes: UnsafeRawBufferPointer, from sender: SocketEndpoint) {
        let copy = Array(bytes)
        received.list.withLock { $0.append(copy) }
    }
}

private final class Received: Sendable {
    let list = Mutex<[[UInt8]]>([])
}

extension Transport {
    /// UDP echo over every Linux backend, IPv4 and IPv6.
    @Suite struct DatagramEchoSuite {
        @Test(arguments: linuxBackends, [Family.ipv4, Family.ipv6])
        func echoesDatagramsOfEverySize(backend: PollerBackend, family: Family) async throws {
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            let loop = group.loops[0]
            let received = Received()
            let address = try family.listenAddress()
            let serverAddress = try await loop.submit { () throws(TransportError) -> SocketEndpoint in
                let server = try loop.bindDatagram(to: address, handler: DatagramEcho())
                return server.localAddress
            }
            // A burst of small datagrams (they fit the receive buffer together), then large
            // ones one at a time: UDP may drop a burst that overflows the kernel's buffer.
            let burst = (0..<50).map { index in (0..<(1 + index * 3)).map { patternByte($0 &+ index) } }
            let large = [1200, 8000, 30_000, 60_000].map { size in (0..<size).map { patternByte($0 &* 3) } }
            let clientBox = try await loop.submit { () throws(TransportError) -> LoopBound<DatagramSocket> in
                let client = try loop.bindDatagram(to: address, handler: DatagramCollector(into: received))
                for message in burst { try client.send(message, to: serverAddress) }
                return LoopBound(client, loop: loop)
            }
            #expect(await eventually(timeout: .seconds(5)) { received.list.withLock { $0.count } == burst.count })
            for (index, message) in large.enumerated() {
                try await loop.submit { () throws(TransportError) in try clientBox.value.send(message, to: serverAddress) }
                #expect(await eventually(timeout: .seconds(5)) { received.list.withLock { $0.count } == burst.count + index + 1 })
            }
            let got = received.list.withLock { $0 }
            let expected = burst + large
            #expect(got.count == expected.count)
            // Loopback keeps order for one sender; compare as multisets anyway.
            let same = got.sorted { $0.lexicographicallyPrecedes($1) } == expected.sorted { $0.lexicographicallyPrecedes($1) }
            #expect(same, "datagram contents differ")
            #expect(got.map(\.count).contains(1) && got.map(\.count).contains(60_000))
            await group.shutdown()
        }
    }
}
