// One fuzz input through a WebSocket Connection of either role: the WebSocketServer harness
// feeds the client's frames (which must be masked), WebSocketClient the server's (which must
// not be).
// Input: a configuration byte (bit 0 small limits, bit 1 RSV1 allowed (compression
// negotiated), bit 2 non-minimal lengths accepted, bit 3 manual Pongs, bit 4 queued frames
// written only at the end, bit 5 a message sent after every piece), a piece-size byte (0:
// everything in one call), then the stream, fed in pieces of that size; each piece is copied
// into a mutable buffer first, as the connection unmasks in place.
// Checks, besides "no crash": events come in a valid order (data only inside a message, no
// empty data, nothing after Close), an uncompressed text message is valid UTF-8 and no message
// passes the size limit, control payloads fit in 125 octets and a Close reason is UTF-8, the
// frames the connection queues on its own stay bounded, and a failure sticks.
import EpsilonWebSocket
import FuzzSupport

private struct Checker: WebSocketHandler {
    let configuration: Connection.Configuration
    var message: (kind: MessageKind, compressed: Bool)?
    var size: UInt64 = 0
    var text: [UInt8] = []
    var closed = false
    var events = 0

    mutating func handle(_ event: WebSocketEvent) throws(WebSocketError) {
        events += 1
        fuzzCheck(!closed, "\(event) after the peer's Close")
        switch event {
        case .messageBegan(let kind, let compressed):
            fuzzCheck(message == nil, "a message began inside another")
            fuzzCheck(!compressed || configuration.allowsCompressedMessages, "a compressed message without the extension")
            message = (kind, compressed)
            size = 0
            text.removeAll(keepingCapacity: true)
        case .messageData(let view):
            fuzzCheck(message != nil, "data outside a message")
            fuzzCheck(view.count > 0, "empty message data")
            size += UInt64(view.count)
            fuzzCheck(size <= configuration.maxMessageSize, "a message of \(size) over the limit \(configuration.maxMessageSize)")
            if message!.kind == .text && !message!.compressed { text.append(contentsOf: view.bytes) }
        case .messageEnded:
            fuzzCheck(message != nil, "a message ended that never began")
            if message!.kind == .text && !message!.compressed {
                fuzzCheck(String(validating: text, as: UTF8.self) != nil, "invalid UTF-8 text delivered: \(escaped(text))")
            }
            message = nil
        case .ping(let view), .pong(let view):
            fuzzCheck(view.count <= 125, "a control payload of \(view.count)")
            _ = view.copyBytes()
        case .close(let code, let reason):
            fuzzCheck(reason.count <= 123, "a close reason of \(reason.count)")
            fuzzCheck(String(validating: reason.bytes, as: UTF8.self) != nil, "a close reason not UTF-8: \(escaped(reason.bytes))")
            if let code { fuzzCheck(code.isValidOnWire, "close code \(code) is not valid on the wire") }
            closed = true
        }
    }
}

/// Runs one fuzz input through a WebSocket `Connection` of the given role.
public func fuzzWebSocketConnection(role: Role, _ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let pieceSize = Int(input.byte())
    var configuration = Connection.Configuration()
    if flags & 1 != 0 {
        configuration.maxFramePayload = 1000
        configuration.maxMessageSize = 2000
        configuration.maxQueuedPongBytes = 300
    }
    configuration.allowsCompressedMessages = flags & 2 != 0
    configuration.acceptsNonMinimalLengths = flags & 4 != 0
    configuration.pingPolicy = flags & 8 != 0 ? .manual : .automaticPong
    configuration.maskingKeys = .fixed(0x3712_4a5c)
    let writeEachTime = flags & 16 == 0
    let sendEachTime = flags & 32 != 0

    var connection = Connection(role: role, configuration: configuration)
    var checker = Checker(configuration: configuration)
    var output: [UInt8] = []
    var piece: [UInt8] = []
    var failure: WebSocketError?
    let message: [UInt8] = Array("fuzz ✓".utf8)
    while !input.isAtEnd {
        piece.removeAll(keepingCapacity: true)
        piece.append(contentsOf: input.piece(size: pieceSize))
        let eventsBefore = checker.events
        do {
            try connection.receive(&piece, handler: &checker)
            fuzzCheck(failure == nil, "a failed connection accepted bytes")
        } catch {
            if let failure {
                fuzzCheck(error == failure, "a failed connection threw \(error), first \(failure)")
                fuzzCheck(checker.events == eventsBefore, "events after the failure")
            } else {
                failure = error
            }
            fuzzCheck(connection.state == .failed(failure!), "state \(connection.state) after \(error)")
        }
        if sendEachTime {
            _ = try? connection.send(.text, bytes: message, into: &output)
        }
        if writeEachTime {
            let before = output.count
            connection.writePendingFrames(into: &output)
            let written = output.count - before
            fuzzCheck(written <= configuration.maxQueuedPongBytes + 2 * (14 + 125),
                      "\(written) octets of queued frames (Pong limit \(configuration.maxQueuedPongBytes))")
            fuzzCheck(!connection.hasPendingFrames, "frames still queued after writing them")
            output.removeAll(keepingCapacity: true)
        }
    }
    let before = output.count
    connection.writePendingFrames(into: &output)
    fuzzCheck(output.count - before <= configuration.maxQueuedPongBytes + 2 * (14 + 125),
              "\(output.count - before) octets of queued frames at the end (Pong limit \(configuration.maxQueuedPongBytes))")
    return 0
}
