import EpsilonTransport
import Foundation
import Synchronization
import Testing

/// What the handler saw of its region (written on the loop, read by the test).
private final class RegionOutcome: Sendable {
    let state = Mutex<(usedRegion: Bool, completed: Bool, error: String?, progressed: UInt64)>((false, false, nil, 0))
}

/// On the first byte read: `<`, the file as a region (or copied where regions are not
/// supported), `>` queued at once behind it; records how the region ended.
private final class FileRegionHandler: ConnectionHandler {
    let path: String
    let outcome: RegionOutcome
    private var started = false

    init(path: String, outcome: RegionOutcome) {
        self.path = path
        self.outcome = outcome
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        guard !started else { return }
        started = true
        connection.write("<")
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        let size = UInt64((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        let usedRegion = connection.sendFile(descriptor: descriptor, offset: 0, count: size, progress: { [outcome] sent in
            outcome.state.withLock { $0.progressed += sent }
        }, completion: { [outcome] error in
            outcome.state.withLock { $0.completed = true; $0.error = error.map { "\($0)" } }
        })
        if !usedRegion {
            let contents = FileManager.default.contents(atPath: path) ?? Data()
            close(descriptor)
            connection.write(Array(contents))
        }
        outcome.state.withLock { $0.usedRegion = usedRegion }
        // Bytes written after the region follow it.
        connection.write(">")
    }
}

extension Transport {
    /// `Connection.sendFile`: a file region goes out after the bytes queued before it and
    /// before those queued after it, whatever the kernel takes at once; its descriptor is
    /// closed when it is sent. Each partial send is reported as progress (the socket fills
    /// mid-region here), the last one as the completion.
    @Suite struct FileRegions {
        @Test(arguments: linuxBackends)
        func regionKeepsItsPlaceInTheWriteQueue(backend: PollerBackend) async throws {
            let path = NSTemporaryDirectory() + "epsilon-region-\(UUID().uuidString)"
            let contents = Array(sixteenMiB[..<(3 << 20)])
            try Data(contents).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let outcome = RegionOutcome()
            let descriptorsBefore = openDescriptorCount()
            let group = try IOLoopGroup(loopCount: 1, backend: backend)
            var serverOptions = ListenerOptions()
            serverOptions.connection.sendBufferSize = 32 * 1024  // the kernel takes the region in parts
            let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0), options: serverOptions) {
                FileRegionHandler(path: path, outcome: outcome)
            }
            var options = SocketOptions()
            options.receiveBufferSize = 32 * 1024  // the server meets a full socket mid-region
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next(), options: options)
            try await client.write(Array("go".utf8))
            try await Task.sleep(for: .milliseconds(50))
            var received: [UInt8] = []
            while received.count < contents.count + 2, let chunk = try await client.read() {
                received += chunk
            }
            #expect(received.count == contents.count + 2)
            #expect(received.first == UInt8(ascii: "<") && received.last == UInt8(ascii: ">"))
            #expect(Array(received.dropFirst().dropLast()) == contents)
            let state = outcome.state.withLock { $0 }
            if [.epollLevelTriggered, .epollEdgeTriggered, .poll].contains(backend) { #expect(state.usedRegion) }
            if state.usedRegion {
                #expect(state.completed && state.error == nil)
                // Partial sends ("<" and the region's parts), never the last one.
                #expect(state.progressed > 0 && state.progressed <= UInt64(contents.count))
            }
            await client.close()
            await server.shutdown(gracePeriod: Duration.zero)
            await group.shutdown()
            // The region's descriptor was closed with the rest.
            #expect(await eventually { openDescriptorCount() <= descriptorsBefore })
        }
    }
}
