// WebSocket: EpsilonWebSocket's server-role connection decoding masked client frames against
// SwiftNIO's NIOWebSocket (WebSocketFrameDecoder in an EmbeddedChannel, unmasked by
// `unmaskedData` as its users do), and unmasking (+ UTF-8 validation) against memcpy of the
// same bytes, the physical limit.
@_spi(EpsilonInternal) import EpsilonWebSocket
import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket

/// What a receiver saw, folded to one number every side must agree on. `firstBytes` sums the
/// first unmasked byte of every message, so a side that skipped unmasking would disagree.
struct WSSeen {
    var messages = 0, bytes = 0, firstBytes = 0
    var check: Int { messages &* 1_000_003 &+ bytes &* 31 &+ firstBytes }
    func perOp(_ ops: Int) -> Int { WSSeen(messages: messages / ops, bytes: bytes / ops, firstBytes: firstBytes / ops).check }
}

/// Masked client frames, one message each, with a different masking key per frame (as a
/// browser sends them).
func maskedFrames(_ messages: [(text: Bool, payload: [UInt8])]) -> [UInt8] {
    var output: [UInt8] = []
    var key: UInt32 = 0x9E37_79B9
    for message in messages {
        key = key &* 1_664_525 &+ 1_013_904_223
        let header = WebSocketFrameHeader(opcode: message.text ? .text : .binary, maskingKey: key, payloadLength: 0)
        message.payload.withUnsafeBytes { WebSocketFrameEncoder.writeFrame(header, payload: $0, into: &output) }
    }
    return output
}

/// About `count` bytes of text mixing ASCII, Latin-1 supplement, Cyrillic, CJK and emoji (1-,
/// 2-, 3- and 4-byte sequences), ending on a whole code point.
func mixedUTF8(_ count: Int) -> [UInt8] {
    let pieces = ["The quick brown fox jumps over the lazy dog. ", "Größe, Ärger, façade, niño. ",
                  "Съешь же ещё этих мягких французских булок. ", "敏捷的棕色狐狸跳过了懒狗。", "🦊🐶✨ "]
    var text: [UInt8] = []
    var index = 0
    while true {
        let piece = Array(pieces[index % pieces.count].utf8)
        if text.count + piece.count > count { break }
        text += piece
        index += 1
    }
    while text.count < count { text.append(0x2E) }
    return text
}

/// `count` bytes of ASCII-only text (English prose and JSON punctuation), as most text
/// messages are.
func asciiUTF8(_ count: Int) -> [UInt8] {
    let piece = Array("{\"text\":\"The quick brown fox jumps over the lazy dog.\",\"n\":42} ".utf8)
    return (0..<count).map { piece[$0 % piece.count] }
}

/// Counts what our connection hands out.
struct EpsilonWSHandler: WebSocketEventHandler {
    var seen = WSSeen()
    var first = false

    mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) {
        switch event {
        case .messageBegan: first = true
        case .messageData(let view):
            if first { seen.firstBytes &+= Int(view.bytes[0]); first = false }
            seen.bytes &+= view.count
        case .messageEnded: seen.messages &+= 1
        default: break
        }
    }
}

/// Ours: one server WebSocketConnection for the run, in memory this side owns. Each operation
/// feeds the masked input as the transport hands over a read: immutable bytes in the loop's
/// read buffer, which the machine unmasks while copying into its own reusable buffer.
final class EpsilonWSSide {
    let connection: UnsafeMutablePointer<WebSocketConnection>
    let handler: UnsafeMutablePointer<EpsilonWSHandler>
    let input: Input

    init(_ bytes: [UInt8]) {
        connection = .allocate(capacity: 1)
        connection.initialize(to: WebSocketConnection(role: .server))
        handler = .allocate(capacity: 1)
        handler.initialize(to: EpsilonWSHandler())
        input = Input(bytes)
    }
    deinit {
        connection.deinitialize(count: 1); connection.deallocate()
        handler.deinitialize(count: 1); handler.deallocate()
    }

    func run(_ ops: Int) -> Int {
        handler.pointee.seen = WSSeen()
        for _ in 0..<ops { feed() }
        return handler.pointee.seen.perOp(ops)
    }

    @inline(never)
    func feed() {
        do {
            try connection.pointee.receive(input.raw, now: 0, handler: &handler.pointee)
        } catch {
            fatalError("EpsilonWebSocket rejected the input: \(error)")
        }
    }
}

/// Counts NIOWebSocket's frames, unmasking each with `unmaskedData` and reading text frames as
/// Strings (which checks the UTF-8 and repairs it), as NIOWebSocket users do.
final class NIOWSCounter: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    var seen = WSSeen()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        var payload = frame.unmaskedData
        seen.messages &+= 1
        if let first = payload.getInteger(at: payload.readerIndex, as: UInt8.self) { seen.firstBytes &+= Int(first) }
        if frame.opcode == .text {
            seen.bytes &+= (payload.readString(length: payload.readableBytes) ?? "").utf8.count
        } else {
            seen.bytes &+= payload.readableBytes
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fatalError("NIOWebSocket failed on the input: \(error)")
    }
}

/// NIOWebSocket: ByteToMessageHandler(WebSocketFrameDecoder) and the counter in an
/// EmbeddedChannel, a ByteBuffer per read.
final class NIOWSSide {
    let channel = EmbeddedChannel()
    let counter = NIOWSCounter()
    let allocator = ByteBufferAllocator()
    let input: Input

    init(_ bytes: [UInt8]) {
        input = Input(bytes)
        try! channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(NIOWebSocket.WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try! channel.pipeline.syncOperations.addHandler(counter)
    }

    func run(_ ops: Int) -> Int {
        counter.seen = WSSeen()
        for _ in 0..<ops { feed() }
        return counter.seen.perOp(ops)
    }

    @inline(never)
    func feed() {
        var buffer = allocator.buffer(capacity: input.raw.count)
        buffer.writeBytes(input.raw)
        try! channel.writeInbound(buffer)
    }
}

func wsDecodeWorkload(id: String, title: String, unit: String, messages: [(text: Bool, payload: [UInt8])]) -> Workload {
    let bytes = maskedFrames(messages)
    var epsilon: EpsilonWSSide?
    let ours = Contender(name: "epsilon") { ops in
        if epsilon == nil { epsilon = EpsilonWSSide(bytes) }
        return epsilon!.run(ops)
    }
    var nio: NIOWSSide?
    let peer = Contender(name: "nio-websocket", note: "WebSocketFrameDecoder in an EmbeddedChannel, a ByteBuffer per read; each frame unmasked by unmaskedData (a new buffer), text read as a String") { ops in
        if nio == nil { nio = NIOWSSide(bytes) }
        return nio!.run(ops)
    }
    return Workload(id: id, title: title, unit: unit, itemsPerOp: messages.count, bytesPerOp: bytes.count, ours: ours, peers: [peer])
}

/// Unmasking (and UTF-8 validation) of `payload` from a masked copy into a second buffer, against
/// memcpy of the same bytes between the same buffers.
/// With `isa`, validation runs on that instruction-set path instead of the best one.
func wsUnmaskWorkload(id: String, title: String, payload: [UInt8], validate: Bool,
                      isa: WebSocketUTF8Validator.InstructionSet? = nil) -> Workload {
    let key: UInt32 = 0x37FA_213D
    var maskedBytes = payload
    maskedBytes.withUnsafeMutableBytes { _ = WebSocketMasking.apply(key: key, to: $0) }
    let masked = Input(maskedBytes)
    let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: payload.count, alignment: 64)
    // Checked once: unmasking gives the payload back and the payload is valid UTF-8.
    WebSocketMasking.apply(key: key, from: masked.raw, to: destination)
    precondition(Array(destination) == payload, "unmasking did not give the payload back")
    precondition(!validate || WebSocketUTF8Validator.isValid(payload), "the payload is not UTF-8")
    let ours = Contender(name: "epsilon") { ops in
        var valid = 0
        for _ in 0..<ops {
            if validate {
                // Unmasking and validation interleaved in cache-sized pieces (one pass over memory).
                var validator = WebSocketUTF8Validator()
                let invalidAt = if let isa {
                    validator.unmaskAndValidate(key: key, from: masked.raw, to: destination, using: isa).invalidAt
                } else {
                    validator.unmaskAndValidate(key: key, from: masked.raw, to: destination).invalidAt
                }
                if invalidAt == nil && validator.isComplete { valid &+= 1 }
            } else {
                WebSocketMasking.apply(key: key, from: masked.raw, to: destination)
                valid &+= 1
            }
        }
        return valid / ops &* payload.count
    }
    let copy = Contender(name: "memcpy", note: "glibc memcpy of the same bytes between the same buffers, the physical limit") { ops in
        for _ in 0..<ops { memcpy(destination.baseAddress!, masked.raw.baseAddress!, payload.count) }
        return payload.count
    }
    return Workload(id: id, title: title, unit: "buffer", itemsPerOp: 1, bytesPerOp: payload.count, ours: ours, peers: [copy])
}

func webSocketWorkloads() -> [Workload] {
    // Chat-like JSON messages of 40-110 bytes.
    let small = (0..<64).map { i in
        (text: true, payload: Array("{\"type\":\"message\",\"id\":\(i),\"room\":\"general\",\"text\":\"\(String(repeating: "hi there ", count: i % 8))\"}".utf8))
    }
    let binary = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
    let text = mixedUTF8(4096)
    let bigText = mixedUTF8(65_536)
    return [
        wsDecodeWorkload(id: "ws-small", title: "ws 64 small text messages", unit: "msg", messages: small),
        wsDecodeWorkload(id: "ws-64k", title: "ws one 64 KiB binary message", unit: "msg", messages: [(text: false, payload: binary)]),
        wsDecodeWorkload(id: "ws-utf8", title: "ws 16 x 4 KiB UTF-8 text", unit: "msg", messages: Array(repeating: (text: true, payload: text), count: 16)),
        wsUnmaskWorkload(id: "ws-unmask", title: "ws unmask 64 KiB", payload: binary, validate: false),
        wsUnmaskWorkload(id: "ws-unmask-utf8", title: "ws unmask+UTF-8 64 KiB", payload: bigText, validate: true),
        wsUnmaskWorkload(id: "ws-unmask-utf8-ascii", title: "ws unmask+UTF-8 64 KiB ASCII", payload: asciiUTF8(65_536), validate: true),
    ] + wsPathWorkloads(mixed: bigText)
}

/// `ws-unmask-utf8` and its ASCII row on every other instruction-set path this machine has (the
/// rows above use the best one, as the connection does): `ws-unmask-utf8-sse2` is the portable
/// Swift at the x86-64 baseline, `-ssse3`, `-avx2`, `-avx512` the shuffle kernels.
func wsPathWorkloads(mixed: [UInt8]) -> [Workload] {
    let ascii = asciiUTF8(65_536)
    return WebSocketUTF8Validator.InstructionSet.supported.filter { $0 != .best }.flatMap { isa in
        [wsUnmaskWorkload(id: "ws-unmask-utf8-\(isa)", title: "ws unmask+UTF-8 64 KiB \(isa)", payload: mixed, validate: true, isa: isa),
         wsUnmaskWorkload(id: "ws-unmask-utf8-ascii-\(isa)", title: "ws unmask+UTF-8 64 KiB ASCII \(isa)", payload: ascii, validate: true, isa: isa)]
    }
}
