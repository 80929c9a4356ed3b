import EpsilonHPACK
import EpsilonHTTP2
import Testing

/// A frame copied out of the machine's output, for assertions.
struct WireFrame: Equatable, CustomStringConvertible {
    var type: HTTP2FrameType
    var flags: UInt8
    var streamID: UInt32
    var payload: [UInt8]

    var description: String { "\(type) flags=0x\(String(flags, radix: 16)) stream=\(streamID) \(payload.count)B" }

    /// The error code of a RST_STREAM or GOAWAY.
    var errorCode: HTTP2ErrorCode? {
        switch type {
        case .rstStream where payload.count == 4: HTTP2ErrorCode(rawValue: be32(payload, 0))
        case .goaway where payload.count >= 8: HTTP2ErrorCode(rawValue: be32(payload, 4))
        default: nil
        }
    }

    var lastStreamID: UInt32? { type == .goaway ? be32(payload, 0) & 0x7fff_ffff : nil }
    var windowIncrement: UInt32? { type == .windowUpdate ? be32(payload, 0) : nil }
    var isAck: Bool { flags & 1 == 1 }
}

func be32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
}

/// Splits bytes into frames (a client preface at the start is skipped).
func wireFrames(_ bytes: [UInt8]) -> [WireFrame] {
    var bytes = bytes
    if bytes.starts(with: HTTP2Connection.clientPreface) { bytes.removeFirst(HTTP2Connection.clientPreface.count) }
    var frames: [WireFrame] = []
    var offset = 0
    while offset + 9 <= bytes.count {
        let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
        guard offset + 9 + length <= bytes.count else { break }
        frames.append(WireFrame(
            type: HTTP2FrameType(rawValue: bytes[offset + 3]), flags: bytes[offset + 4],
            streamID: be32(bytes, offset + 5) & 0x7fff_ffff, payload: Array(bytes[(offset + 9)..<(offset + 9 + length)])))
        offset += 9 + length
    }
    return frames
}

/// Builds raw frames as a peer would send them, including broken ones.
enum Wire {
    static func frame(_ type: HTTP2FrameType, flags: UInt8 = 0, stream: UInt32, _ payload: [UInt8] = []) -> [UInt8] {
        var out: [UInt8] = [UInt8(payload.count >> 16 & 0xff), UInt8(payload.count >> 8 & 0xff), UInt8(payload.count & 0xff),
                            type.rawValue, flags]
        out += u32(stream)
        return out + payload
    }

    static func u32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    static func settings(_ settings: [(UInt16, UInt32)] = [], ack: Bool = false) -> [UInt8] {
        var payload: [UInt8] = []
        for (id, value) in settings { payload += [UInt8(id >> 8), UInt8(id & 0xff)] + u32(value) }
        return frame(.settings, flags: ack ? 1 : 0, stream: 0, payload)
    }

    static func ping(_ opaque: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8], ack: Bool = false, stream: UInt32 = 0) -> [UInt8] {
        frame(.ping, flags: ack ? 1 : 0, stream: stream, opaque)
    }

    static func data(_ stream: UInt32, _ body: [UInt8], endStream: Bool = false, padding: Int? = nil) -> [UInt8] {
        var payload = body
        var flags: UInt8 = endStream ? 1 : 0
        if let padding {
            flags |= 0x8
            payload = [UInt8(padding)] + body + Array(repeating: 0, count: padding)
        }
        return frame(.data, flags: flags, stream: stream, payload)
    }

    static func rst(_ stream: UInt32, _ code: HTTP2ErrorCode = .cancel) -> [UInt8] {
        frame(.rstStream, stream: stream, u32(code.rawValue))
    }

    static func windowUpdate(_ stream: UInt32, _ increment: UInt32) -> [UInt8] {
        frame(.windowUpdate, stream: stream, u32(increment))
    }

    static func priority(_ stream: UInt32, dependsOn: UInt32, weight: UInt8 = 15, exclusive: Bool = false) -> [UInt8] {
        frame(.priority, stream: stream, u32(dependsOn | (exclusive ? 0x8000_0000 : 0)) + [weight])
    }

    static func goaway(_ last: UInt32, _ code: HTTP2ErrorCode = .noError) -> [UInt8] {
        frame(.goaway, stream: 0, u32(last) + u32(code.rawValue))
    }

    static let request: [HPACKHeaderField] = [
        HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"),
        HPACKHeaderField(":path", "/"), HPACKHeaderField(":authority", "example.org"),
    ]

    static func post(_ extra: [HPACKHeaderField] = []) -> [HPACKHeaderField] {
        [HPACKHeaderField(":method", "POST"), HPACKHeaderField(":scheme", "http"),
         HPACKHeaderField(":path", "/upload"), HPACKHeaderField(":authority", "example.org")] + extra
    }

    /// A header block encoded without Huffman or indexing, so tests can split it anywhere.
    static func block(_ fields: [HPACKHeaderField]) -> [UInt8] {
        var encoder = HPACKHeaderBlockEncoder(configuration: .init(huffman: .never, policy: .never))
        var out: [UInt8] = []
        encoder.encode(fields, into: &out)
        return out
    }

    static func headers(
        _ stream: UInt32, _ fields: [HPACKHeaderField] = request, endStream: Bool = true, endHeaders: Bool = true,
        priority: (UInt32, UInt8)? = nil
    ) -> [UInt8] {
        headers(stream, block: block(fields), endStream: endStream, endHeaders: endHeaders, priority: priority)
    }

    static func headers(
        _ stream: UInt32, block: [UInt8], endStream: Bool = true, endHeaders: Bool = true, priority: (UInt32, UInt8)? = nil
    ) -> [UInt8] {
        var flags: UInt8 = 0
        if endStream { flags |= 1 }
        if endHeaders { flags |= 4 }
        var payload = block
        if let (dependency, weight) = priority {
            flags |= 0x20
            payload = u32(dependency) + [weight] + block
        }
        return frame(.headers, flags: flags, stream: stream, payload)
    }

    static func continuation(_ stream: UInt32, _ fragment: [UInt8], endHeaders: Bool) -> [UInt8] {
        frame(.continuation, flags: endHeaders ? 4 : 0, stream: stream, fragment)
    }
}

/// What a machine did with one input: events, the frames it queued, the connection error.
struct Reaction {
    var events: [HTTP2OwnedEvent] = []
    var frames: [WireFrame] = []
    var error: HTTP2ConnectionError?

    var goaway: WireFrame? { frames.first { $0.type == .goaway } }
    func reset(_ stream: UInt32) -> HTTP2ErrorCode? {
        frames.first { $0.type == .rstStream && $0.streamID == stream }?.errorCode
    }
    var hasRST: Bool { frames.contains { $0.type == .rstStream } }
}

/// A server-role machine that has seen a client preface and SETTINGS, with its opening output
/// already taken: each `send` shows the exact reaction to raw bytes.
struct ServerHarness {
    var server: HTTP2Connection

    init(_ configuration: HTTP2Configuration = HTTP2Configuration(), clientSettings: [(UInt16, UInt32)] = []) {
        server = HTTP2Connection(role: .server, configuration: configuration)
        let reaction = Self.feed(&server, HTTP2Connection.clientPreface + Wire.settings(clientSettings))
        precondition(reaction.error == nil)
    }

    static func feed(_ machine: inout HTTP2Connection, _ bytes: [UInt8], now: UInt64 = 0) -> Reaction {
        var collector = HTTP2EventCollector()
        var reaction = Reaction()
        do {
            try machine.receive(bytes, now: now, handler: &collector)
        } catch {
            reaction.error = error
        }
        reaction.events = collector.events
        reaction.frames = wireFrames(machine.takeOutput())
        return reaction
    }

    mutating func send(_ bytes: [UInt8], now: UInt64 = 0) -> Reaction { Self.feed(&server, bytes, now: now) }
}

/// Expects a connection error with `code`, GOAWAY with that code queued.
func expectConnectionError(_ reaction: Reaction, _ code: HTTP2ErrorCode, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reaction.error?.code == code, "error \(String(describing: reaction.error))", sourceLocation: sourceLocation)
    #expect(reaction.goaway?.errorCode == code, "frames \(reaction.frames)", sourceLocation: sourceLocation)
}

/// Expects a stream error with `code` on `stream`: RST_STREAM queued, no GOAWAY.
func expectStreamError(_ reaction: Reaction, _ stream: UInt32, _ code: HTTP2ErrorCode, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reaction.error == nil, "error \(String(describing: reaction.error))", sourceLocation: sourceLocation)
    #expect(reaction.goaway == nil, sourceLocation: sourceLocation)
    #expect(reaction.reset(stream) == code, "frames \(reaction.frames)", sourceLocation: sourceLocation)
}

/// Expects a stream error or a connection error with `code` (h2spec accepts either).
func expectStreamOrConnectionError(_ reaction: Reaction, _ stream: UInt32, _ code: HTTP2ErrorCode, sourceLocation: SourceLocation = #_sourceLocation) {
    let viaReset = reaction.reset(stream) == code
    let viaGoaway = reaction.goaway?.errorCode == code && reaction.error?.code == code
    #expect(viaReset || viaGoaway, "frames \(reaction.frames), error \(String(describing: reaction.error))", sourceLocation: sourceLocation)
}

/// Expects no error, no RST_STREAM, no GOAWAY.
func expectAccepted(_ reaction: Reaction, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reaction.error == nil, "error \(String(describing: reaction.error))", sourceLocation: sourceLocation)
    #expect(reaction.goaway == nil && !reaction.hasRST, "frames \(reaction.frames)", sourceLocation: sourceLocation)
}
