import EpsilonHPACK
import EpsilonHTTP2
import EpsilonMallocCounter
import Testing

/// A handler that counts events and keeps nothing: what a server embedding the machine does
/// on the hot path (look at the views, copy nothing).
private struct CountingHandler: HTTP2EventHandler {
    var headers = 0
    var dataBytes = 0
    var other = 0
    mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) {
        switch event {
        case .headers(_, let list, _): headers &+= list.count
        case .data(_, let bytes, _): dataBytes &+= bytes.count
        default: other &+= 1
        }
    }
}

@Suite struct Allocations {
    @Test func dataOnAnOpenStreamAllocatesNothing() throws {
        #expect(epsilon_malloc_counter_is_active() == 1)
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        let frame = Wire.data(1, Array(repeating: 0x61, count: 1_000))
        var handler = CountingHandler()
        var output: [UInt8] = []
        output.reserveCapacity(1 << 16)
        // Warm up: buffers grow, WINDOW_UPDATEs are produced.
        for _ in 0..<200 {
            try harness.server.receive(frame, now: 0, handler: &handler)
            output.removeAll(keepingCapacity: true)
            harness.server.writeOutput(into: &output)
        }
        epsilon_malloc_counter_start()
        for _ in 0..<1_000 {
            try harness.server.receive(frame, now: 0, handler: &handler)
            output.removeAll(keepingCapacity: true)
            harness.server.writeOutput(into: &output)
        }
        let allocations = epsilon_malloc_counter_stop()
        #expect(allocations == 0)
        #expect(handler.dataBytes == 1_200_000)
    }

    @Test func dataSplitAcrossReadsAllocatesNothing() throws {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1, endStream: false))
        let frame = Wire.data(1, Array(repeating: 0x61, count: 1_000))
        let first = Array(frame.prefix(300)), second = Array(frame.dropFirst(300))
        var handler = CountingHandler()
        var output: [UInt8] = []
        output.reserveCapacity(1 << 16)
        for _ in 0..<200 {
            try harness.server.receive(first, now: 0, handler: &handler)
            try harness.server.receive(second, now: 0, handler: &handler)
            output.removeAll(keepingCapacity: true)
            harness.server.writeOutput(into: &output)
        }
        epsilon_malloc_counter_start()
        for _ in 0..<1_000 {
            try harness.server.receive(first, now: 0, handler: &handler)
            try harness.server.receive(second, now: 0, handler: &handler)
            output.removeAll(keepingCapacity: true)
            harness.server.writeOutput(into: &output)
        }
        let allocations = epsilon_malloc_counter_stop()
        #expect(allocations == 0)
        #expect(handler.dataBytes == 1_200_000)
    }

    @Test func requestHeadersAndResponseHeadersAllocateNothing() throws {
        var harness = ServerHarness()
        var encoder = HPACKHeaderBlockEncoder()
        let request = Wire.request + [HPACKHeaderField("user-agent", "epsilon-test/1.0"), HPACKHeaderField("accept", "*/*")]
        // Pre-encode one HEADERS frame per stream (the dynamic table makes later blocks short).
        var frames: [[UInt8]] = []
        for index in 0..<1_200 {
            var block: [UInt8] = []
            encoder.encode(request, into: &block)
            frames.append(Wire.headers(UInt32(2 * index + 1), block: block))
        }
        let response = [HPACKHeaderField(":status", "200"), HPACKHeaderField("content-type", "text/plain"), HPACKHeaderField("server", "epsilon")]
        var handler = CountingHandler()
        var output: [UInt8] = []
        output.reserveCapacity(1 << 16)
        for index in 0..<200 {
            try harness.server.receive(frames[index], now: 0, handler: &handler)
            try harness.server.sendHeaders(streamID: UInt32(2 * index + 1), response, endStream: true)
            output.removeAll(keepingCapacity: true)
            harness.server.writeOutput(into: &output)
        }
        epsilon_malloc_counter_start()
        for index in 200..<1_200 {
            try harness.server.receive(frames[index], now: 0, handler: &handler)
            try harness.server.sendHeaders(streamID: UInt32(2 * index + 1), response, endStream: true)
            output.removeAll(keepingCapacity: true)
            harness.server.writeOutput(into: &output)
        }
        let allocations = epsilon_malloc_counter_stop()
        #expect(allocations == 0)
        #expect(handler.headers == 1_200 * 6)
        #expect(harness.server.activeStreamCount == 0)
    }

    @Test func clientRequestsAndResponsesAllocateNothing() throws {
        var client = HTTP2Connection(role: .client)
        var handler = CountingHandler()
        try client.receive(Wire.settings([(0x3, 1_000_000)]), now: 0, handler: &handler)
        var encoder = HPACKHeaderBlockEncoder()
        let responseFields = [HPACKHeaderField(":status", "200"), HPACKHeaderField("content-type", "text/plain")]
        // Responses for streams 1, 3, 5, ... pre-encoded: HEADERS then DATA with END_STREAM.
        var responses: [[UInt8]] = []
        for index in 0..<1_200 {
            var block: [UInt8] = []
            encoder.encode(responseFields, into: &block)
            let id = UInt32(2 * index + 1)
            responses.append(Wire.headers(id, block: block, endStream: false) + Wire.data(id, Array(repeating: 0x62, count: 200), endStream: true))
        }
        let request = Wire.request
        var output: [UInt8] = []
        output.reserveCapacity(1 << 16)
        for index in 0..<200 {
            _ = try client.startRequest(request, endStream: true)
            try client.receive(responses[index], now: 0, handler: &handler)
            output.removeAll(keepingCapacity: true)
            client.writeOutput(into: &output)
        }
        epsilon_malloc_counter_start()
        for index in 200..<1_200 {
            _ = try client.startRequest(request, endStream: true)
            try client.receive(responses[index], now: 0, handler: &handler)
            output.removeAll(keepingCapacity: true)
            client.writeOutput(into: &output)
        }
        let allocations = epsilon_malloc_counter_stop()
        #expect(allocations == 0)
        #expect(handler.dataBytes == 1_200 * 200)
        #expect(client.activeStreamCount == 0)
    }
}
