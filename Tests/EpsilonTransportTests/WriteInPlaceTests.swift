import EpsilonTransport
import Foundation
import Testing

/// Frames every read as `[` + bytes + `]`: the brackets through ordinary writes, the bytes
/// appended in place to the write queue's tail, as a protocol machine's `writeOutput(into:)`
/// would.
private final class FramingHandler: ConnectionHandler {
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        connection.write(Array("[".utf8))
        connection.write { (buffer: inout [UInt8]) in buffer.append(contentsOf: bytes) }
        connection.write("]")
    }
}

extension Transport {
    /// `Connection.write { buffer in ... }`: output appended in place keeps its order with
    /// ordinary writes, whatever the kernel takes at once, on every backend.
    @Suite struct WriteInPlace {
        @Test(arguments: linuxBackends)
        func appendedOutputKeepsItsOrder(backend: PollerBackend) async throws {
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0)) { FramingHandler() }
            var options = SocketOptions()
            // A small receive buffer and a late reader leave the server with pending tails.
            options.receiveBufferSize = 32 * 1024
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next(), options: options)
            let total = 2 << 20
            let payload = (0..<total).map { UInt8(0x61 + $0 % 26) }
            let writer = Task {
                var offset = 0
                while offset < total {
                    let end = min(offset + 48 * 1024, total)
                    try await client.write(Array(payload[offset..<end]))
                    offset = end
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            var unframed: [UInt8] = []
            var depth = 0
            var wellFormed = true
            while unframed.count < total, let chunk = try await client.read() {
                for byte in chunk {
                    switch byte {
                    case UInt8(ascii: "["):
                        wellFormed = wellFormed && depth == 0
                        depth += 1
                    case UInt8(ascii: "]"):
                        wellFormed = wellFormed && depth == 1
                        depth -= 1
                    default:
                        wellFormed = wellFormed && depth == 1
                        unframed.append(byte)
                    }
                }
            }
            try await writer.value
            #expect(wellFormed)
            #expect(unframed == payload)
            await client.close()
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
        }
    }
}
