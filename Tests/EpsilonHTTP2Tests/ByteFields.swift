import EpsilonHTTP2
import EpsilonMallocCounter
import Testing

/// Header fields as bytes, both ways: sending an `HTTP2HeaderList` built from bytes (no
/// `String` round trip) and reading received fields as borrowed `HPACKHeaderFieldView`s.
@Suite struct ByteFields {
    static func requestList() -> HTTP2HeaderList {
        var list = HTTP2HeaderList()
        list.append(name: ":method", value: "GET")
        list.append(name: ":scheme", value: "http")
        list.append(name: ":path", value: "/")
        let authority: [UInt8] = Array("example.org".utf8)
        authority.withUnsafeBytes { list.append(name: ":authority", value: $0) }
        return list
    }

    @Test func byteFieldsEncodeExactlyLikeStringFields() throws {
        var withStrings = HTTP2Connection(role: .client)
        var withBytes = HTTP2Connection(role: .client)
        _ = try withStrings.receive(Wire.settings(), now: 0)
        _ = try withBytes.receive(Wire.settings(), now: 0)
        _ = withStrings.takeOutput()
        _ = withBytes.takeOutput()
        for _ in 0..<3 {  // the second and third blocks use the dynamic table
            _ = try withStrings.startRequest(Wire.request, endStream: true)
            _ = try withBytes.startRequest(Self.requestList(), endStream: true)
        }
        #expect(withStrings.takeOutput() == withBytes.takeOutput())
    }

    @Test func informationalAndFinalHeadsFromBytes() throws {
        var harness = ServerHarness()
        _ = harness.send(Wire.headers(1))
        var continueHead = HTTP2HeaderList()
        continueHead.append(name: ":status", value: "103")
        var finalHead = HTTP2HeaderList()
        finalHead.append(name: ":status", value: "200")
        try harness.server.sendHeaders(streamID: 1, continueHead, endStream: false)
        try harness.server.sendHeaders(streamID: 1, finalHead, endStream: false)
        var trailers = HTTP2HeaderList()
        trailers.append(name: "grpc-status", value: "0")
        try harness.server.sendTrailers(streamID: 1, trailers)
        let heads = wireFrames(harness.server.takeOutput()).filter { $0.type == .headers }
        #expect(heads.count == 3)
        #expect(heads.last?.isAck == true)  // END_STREAM on the trailers
        #expect(harness.server.activeStreamCount == 0)
    }

    @Test func receivedFieldsAreBorrowedViews() throws {
        struct Names: HTTP2EventHandler {
            var names: [String] = []
            var authority: String?
            mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) {
                guard case .headers(_, let list, _) = event else { return }
                list.forEach { field in
                    names.append(field.nameString)
                    if field.nameEquals(":authority") { authority = field.valueString }
                }
            }
        }
        var harness = ServerHarness()
        var names = Names()
        try harness.server.receive(Wire.headers(1), now: 0, handler: &names)
        #expect(names.names == [":method", ":scheme", ":path", ":authority"])
        #expect(names.authority == "example.org")
    }

    @Test func sendingAPrebuiltByteListAllocatesNothing() throws {
        var harness = ServerHarness()
        var response = HTTP2HeaderList()
        response.append(name: ":status", value: "200")
        response.append(name: "content-type", value: "text/plain")
        response.append(name: "server", value: "epsilon")
        var request = HPACKHeaderBlockEncoder()
        var frames: [[UInt8]] = []
        for index in 0..<1_200 {
            var block: [UInt8] = []
            request.encode(Wire.request, into: &block)
            frames.append(Wire.headers(UInt32(2 * index + 1), block: block))
        }
        var events = 0
        struct Counter: HTTP2EventHandler {
            var count = 0
            mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) { count &+= 1 }
        }
        var counter = Counter()
        var output: [UInt8] = []
        output.reserveCapacity(1 << 16)
        for index in 0..<200 {
            try harness.server.receive(frames[index], now: 0, handler: &counter)
            try harness.server.sendHeaders(streamID: UInt32(2 * index + 1), response, endStream: true)
            output.removeAll(keepingCapacity: true)
            harness.server.writeOutput(into: &output)
        }
        epsilon_malloc_counter_start()
        for index in 200..<1_200 {
            try harness.server.receive(frames[index], now: 0, handler: &counter)
            try harness.server.sendHeaders(streamID: UInt32(2 * index + 1), response, endStream: true)
            output.removeAll(keepingCapacity: true)
            harness.server.writeOutput(into: &output)
        }
        let allocations = epsilon_malloc_counter_stop()
        events = counter.count
        #expect(allocations == 0)
        #expect(events == 1_200)
    }
}
