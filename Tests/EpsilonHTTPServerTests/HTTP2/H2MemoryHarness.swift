import EpsilonHPACK
import EpsilonHTTP2
@testable import EpsilonHTTPServer

/// An ``HTTP2ServerSession`` over ``HTTPServerMemoryIO`` with a client-role
/// ``HTTP2Connection`` as its peer: bytes move between them in memory until both are quiet.
final class H2MemoryHarness {
    let io: HTTPServerMemoryIO
    let dispatcher = H2TestDispatcher()
    let context: HTTPServerLoopContext
    var session: HTTP2ServerSession
    var client: HTTP2Connection
    /// Every event the client received, in order.
    var events: [HTTP2OwnedEvent] = []
    /// Every byte the server wrote (for frame-level checks).
    var serverBytes: [UInt8] = []
    var clientError: HTTP2ConnectionError?

    init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
         client clientConfiguration: HTTP2Configuration = HTTP2Configuration(),
         writeHighWatermark: Int = 64 * 1024) {
        io = HTTPServerMemoryIO(writeHighWatermark: writeHighWatermark)
        context = HTTPServerLoopContext(configuration: configuration, dispatcher: dispatcher)
        session = HTTP2ServerSession(io: io, context: context)
        client = HTTP2Connection(role: .client, configuration: clientConfiguration)
        io.open(session)
    }

    /// Moves bytes both ways until neither side has anything to say (bounded rounds).
    func run(rounds: Int = 10_000) {
        for _ in 0..<rounds {
            let toServer = client.takeOutput()
            if !toServer.isEmpty { io.receive(toServer) }
            let toClient = io.takeOutput()
            serverBytes += toClient
            if !toClient.isEmpty && clientError == nil {
                do throws(HTTP2ConnectionError) {
                    events += try client.receive(toClient, now: 0)
                } catch {
                    clientError = error
                }
            }
            if toServer.isEmpty && toClient.isEmpty { return }
        }
    }

    /// Sends raw bytes to the server (a hostile or hand-built peer) and collects the answer.
    func sendRaw(_ bytes: [UInt8]) {
        io.receive(bytes)
        let toClient = io.takeOutput()
        serverBytes += toClient
    }

    /// Starts a request from the client.
    @discardableResult
    func request(_ method: String, _ path: String, endStream: Bool = true, extra: [HPACKHeaderField] = []) -> UInt32 {
        let fields = [HPACKHeaderField(":method", method), HPACKHeaderField(":scheme", "http"),
                      HPACKHeaderField(":authority", "localhost"), HPACKHeaderField(":path", path)] + extra
        // The client machine's state allows it in every test that calls this.
        return (try? client.startRequest(fields, endStream: endStream)) ?? 0
    }

    /// Starts a `GET` request.
    @discardableResult
    func request(path: String, extra: [HPACKHeaderField] = []) -> UInt32 {
        request("GET", path, extra: extra)
    }

    /// Sends body bytes from the client (as much as the windows allow) and returns how many went.
    @discardableResult
    func send(_ stream: UInt32, _ bytes: [UInt8], end: Bool) -> Int {
        (try? client.sendData(streamID: stream, bytes, endStream: end)) ?? -1
    }

    /// The response on `stream` as the client saw it.
    func response(_ stream: UInt32) -> (head: [HPACKHeaderField], body: [UInt8], trailers: [HPACKHeaderField], ended: Bool, reset: HTTP2ErrorCode?) {
        var head: [HPACKHeaderField] = []
        var body: [UInt8] = []
        var trailers: [HPACKHeaderField] = []
        var ended = false
        var reset: HTTP2ErrorCode?
        for event in events {
            switch event {
            case .headers(stream, let fields, let end):
                head = fields
                if end { ended = true }
            case .data(stream, let bytes, let end):
                body += bytes
                if end { ended = true }
            case .trailers(stream, let fields):
                trailers = fields
                ended = true
            case .streamReset(stream, let code, _):
                reset = code
            default:
                break
            }
        }
        return (head, body, trailers, ended, reset)
    }

    /// The value of `name` in a field list.
    static func value(_ name: String, in fields: [HPACKHeaderField]) -> String? {
        fields.first { $0.name == name }?.value
    }

    /// The server's frames so far, split.
    var serverFrames: [(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8])] {
        var frames: [(UInt8, UInt8, UInt32, [UInt8])] = []
        var offset = 0
        let bytes = serverBytes
        while offset + 9 <= bytes.count {
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            guard offset + 9 + length <= bytes.count else { break }
            let stream = (UInt32(bytes[offset + 5]) << 24 | UInt32(bytes[offset + 6]) << 16
                | UInt32(bytes[offset + 7]) << 8 | UInt32(bytes[offset + 8])) & 0x7fff_ffff
            frames.append((bytes[offset + 3], bytes[offset + 4], stream, Array(bytes[(offset + 9)..<(offset + 9 + length)])))
            offset += 9 + length
        }
        return frames
    }

    /// The error code of the last GOAWAY the server sent, if any.
    var goawayCode: UInt32? {
        guard let frame = serverFrames.last(where: { $0.type == 7 }), frame.payload.count >= 8 else { return nil }
        return UInt32(frame.payload[4]) << 24 | UInt32(frame.payload[5]) << 16 | UInt32(frame.payload[6]) << 8 | UInt32(frame.payload[7])
    }

    /// Deterministic body bytes: byte i is `i % 251` (a prime, so no alignment hides a slip).
    static func body(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) }
    }
}

/// Whether two byte arrays are equal, described without a diff (Swift Testing's diff of two
/// megabyte arrays takes minutes): nil when equal, else the sizes and the first difference.
func byteMismatch(_ actual: [UInt8], _ expected: [UInt8]) -> String? {
    if actual == expected { return nil }
    let first = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(actual.count, expected.count)
    return "got \(actual.count) bytes, expected \(expected.count); first difference at \(first)"
}
