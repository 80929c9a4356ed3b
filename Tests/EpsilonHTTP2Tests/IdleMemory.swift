#if canImport(Glibc)
import Glibc
import EpsilonHTTP2
import EpsilonHTTP2TestSupport
import Testing

/// What an idle server-role connection holds once it has served one request, measured with
/// glibc's own accounting (`Int(epsilon_heap_bytes_in_use())`: bytes in use, malloc's per-block overhead
/// included) around making many such connections. The measurement runs in a child process
/// (an exit test), so no test running on another thread disturbs the process-wide figure.
@Suite struct IdleMemory {
    /// The budget of the issue: a server stays under 4 KB per idle HTTP/2 connection when the
    /// machine holds under 3 KB.
    static let budget = 3 * 1024
    static let connections = 500

    /// A curl-like h2c request (prior knowledge) and its answer: the client's preface,
    /// SETTINGS, a connection WINDOW_UPDATE, one GET, then the ACK of our SETTINGS.
    static func clientBytes() -> (opening: [UInt8], ack: [UInt8]) {
        var encoder = HPACKHeaderBlockEncoder()
        var block: [UInt8] = []
        encoder.encode([
            HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"),
            HPACKHeaderField(":authority", "127.0.0.1:8080"), HPACKHeaderField(":path", "/"),
            HPACKHeaderField("user-agent", "curl/8.14.1"), HPACKHeaderField("accept", "*/*"),
        ], into: &block)
        let opening = HTTP2Connection.clientPreface
            + Wire.settings([(0x3, 100), (0x4, 10 * 1024 * 1024), (0x2, 0)])
            + Wire.windowUpdate(0, 1 << 30)
            + Wire.headers(1, block: block, endStream: true)
        return (opening, Wire.settings(ack: true))
    }

    /// Answers each request inside `handle`, as a server does.
    struct Responder: HTTP2EventHandler {
        var requests = 0
        mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) throws(HTTP2ConnectionError) {
            guard case .headers(let stream, _, _) = event else { return }
            requests += 1
            do {
                try connection.sendHeaders(streamID: stream, [
                    HPACKHeaderField(":status", "200"), HPACKHeaderField("content-type", "text/plain"),
                    HPACKHeaderField("content-length", "13"),
                ], endStream: false)
                try connection.sendData(streamID: stream, Array("Hello, World!".utf8), endStream: true)
            } catch {
                Issue.record("send failed: \(error)")
            }
        }
    }

    /// Heap bytes per idle connection (inline size included) and the inline size alone.
    static func measure() -> (perConnection: Int, inline: Int, requests: Int) {
        let (opening, ack) = clientBytes()
        var output: [UInt8] = []
        output.reserveCapacity(1 << 16)
        var responder = Responder()
        let before = Int(epsilon_heap_bytes_in_use())
        var machines: [HTTP2Connection] = []
        machines.reserveCapacity(connections)
        for _ in 0..<connections {
            var server = HTTP2Connection(role: .server)
            do {
                try server.receive(opening, now: 1, handler: &responder)
                server.writeOutput(into: &output)
                try server.receive(ack, now: 2, handler: &responder)
                server.writeOutput(into: &output)
            } catch {
                Issue.record("connection error: \(error)")
            }
            output.removeAll(keepingCapacity: true)
            machines.append(server)
        }
        let after = Int(epsilon_heap_bytes_in_use())
        withExtendedLifetime(machines) {}
        return ((after - before) / connections, MemoryLayout<HTTP2Connection>.stride, responder.requests)
    }

    @Test func idleServerConnectionHoldsUnderThreeKilobytes() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            let figures = IdleMemory.measure()
            print("\(figures.perConnection) \(figures.inline) \(figures.requests)")
        }
        let words = String(decoding: try #require(result).standardOutputContent, as: UTF8.self)
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        try #require(words.count == 3)
        let (perConnection, inline, requests) = (words[0], words[1], words[2])
        print("idle server-role HTTP2Connection after one request: \(perConnection) bytes of heap "
              + "(of which \(inline) inline), budget \(Self.budget), requests \(requests)")
        #expect(requests == Self.connections)
        // A figure at or below the inline size means the accounting is dead, not that memory is free.
        #expect(perConnection > inline)
        #expect(perConnection < Self.budget)
    }
}
#endif
