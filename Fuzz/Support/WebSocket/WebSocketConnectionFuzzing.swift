// One fuzz input through a WebSocketConnection of either role: the WebSocketServer harness
// feeds the client's frames (which must be masked), WebSocketClient the server's (which must
// not be).
// Input: a configuration byte (bit 0 small limits, bit 1 RSV1 allowed (compression
// negotiated), bit 2 non-minimal lengths accepted, bit 3 manual Pongs, bit 4 output written
// only at the end, bit 5 a message sent after every piece, bit 6 our Close sent first with a
// close timeout of three pieces, bit 7 the handler echoes every message from inside
// `handle`), a piece-size byte (0: everything in one call), then the stream, fed in pieces of
// that size straight from the fuzzer's (immutable) bytes; each piece advances the clock by 1.
// Checks, besides "no crash": `receive` consumes everything; events come in a valid order
// (data only inside a message, no empty data, nothing after Close), an uncompressed text
// message is valid UTF-8 and no message passes the size limit, control payloads fit in 125
// octets and a Close reason is UTF-8, the automatic Pongs in the output stay bounded, the
// output is itself a valid stream for the peer, a failure sticks, and the close timer runs
// exactly while we wait for the peer's Close.
import EpsilonWebSocket
import FuzzSupport

private struct Checker: WebSocketEventHandler {
    let configuration: WebSocketConnection.Configuration
    let echoes: Bool
    var message: (kind: WebSocketMessageKind, compressed: Bool)?
    var size: UInt64 = 0
    var text: [UInt8] = []
    var body: [UInt8] = []
    var closed = false
    var events = 0

    mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) {
        events += 1
        fuzzCheck(!closed, "\(event) after the peer's Close")
        switch event {
        case .messageBegan(let kind, let compressed):
            fuzzCheck(message == nil, "a message began inside another")
            fuzzCheck(!compressed || configuration.allowsCompressedMessages, "a compressed message without the extension")
            message = (kind, compressed)
            size = 0
            text.removeAll(keepingCapacity: true)
            body.removeAll(keepingCapacity: true)
        case .messageData(let view):
            fuzzCheck(message != nil, "data outside a message")
            fuzzCheck(view.count > 0, "empty message data")
            size += UInt64(view.count)
            fuzzCheck(size <= configuration.maxMessageSize, "a message of \(size) over the limit \(configuration.maxMessageSize)")
            if message!.kind == .text && !message!.compressed { text.append(contentsOf: view.bytes) }
            if echoes && body.count < 4096 { body.append(contentsOf: view.bytes.prefix(4096 - body.count)) }
        case .messageEnded:
            fuzzCheck(message != nil, "a message ended that never began")
            if message!.kind == .text && !message!.compressed {
                fuzzCheck(String(validating: text, as: UTF8.self) != nil, "invalid UTF-8 text delivered: \(escaped(text))")
            }
            if echoes {
                // Compressed messages are echoed as binary: the payload is not inflated here.
                let kind: WebSocketMessageKind = message!.compressed ? .binary : message!.kind
                // Untyped closures around typed calls: swift-frontend 6.3.1 crashes on a
                // `throws(E)` closure passed to withUnsafeBytes under the fuzzer sanitizer.
                let refused = body.withUnsafeBytes { raw -> WebSocketUsageError? in
                    do throws(WebSocketUsageError) {
                        try connection.send(kind, payload: raw)
                        return nil
                    } catch {
                        return error
                    }
                }
                if let refused {
                    fuzzCheck(!connection.canStartMessage, "send refused (\(refused)) while the connection can start a message")
                }
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

/// Decodes what the connection wrote with a peer of the other role; it must be valid.
private func checkOutput(_ output: [UInt8], sender: WebSocketRole, compressed: Bool) {
    var decoder = WebSocketFrameDecoder(role: sender == .client ? .server : .client)
    decoder.configuration.allowedReservedBits = compressed ? .rsv1 : []
    decoder.configuration.maxFramePayload = .max
    let failure = output.withUnsafeBytes { raw -> WebSocketError? in
        do throws(WebSocketError) {
            try decoder.decode(raw) { _ in }
            return nil
        } catch {
            return error
        }
    }
    if let failure { fuzzCheck(false, "the connection wrote an invalid stream: \(failure)") }
}

/// Runs one fuzz input through a `WebSocketConnection` of the given role.
public func fuzzWebSocketConnection(role: WebSocketRole, _ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let pieceSize = Int(input.byte())
    var configuration = WebSocketConnection.Configuration()
    if flags & 1 != 0 {
        configuration.maxFramePayload = 1000
        configuration.maxMessageSize = 2000
        configuration.maxQueuedPongBytes = 300
    }
    configuration.allowsCompressedMessages = flags & 2 != 0
    configuration.acceptsNonMinimalLengths = flags & 4 != 0
    configuration.pingPolicy = flags & 8 != 0 ? .manual : .automaticPong
    configuration.maskingKeys = .fixed(0x3712_4a5c)
    configuration.closeTimeout = 3
    let writeEachTime = flags & 16 == 0
    let sendEachTime = flags & 32 != 0
    let echoes = flags & 128 != 0

    var connection = WebSocketConnection(role: role, configuration: configuration)
    var checker = Checker(configuration: configuration, echoes: echoes)
    var output: [UInt8] = []
    var all: [UInt8] = []
    var failure: WebSocketError?
    var now: UInt64 = 0
    let message: [UInt8] = Array("fuzz ✓".utf8)
    if flags & 64 != 0 {
        do throws(WebSocketUsageError) {
            try connection.sendClose(code: .normalClosure, reason: "fuzz", now: now)
        } catch {
            fuzzCheck(false, "the first Close was refused: \(error)")
        }
        fuzzCheck(connection.nextDeadline == 3, "close deadline \(String(describing: connection.nextDeadline))")
    }
    // What the automatic Pongs may add between two writes: the bound, one more Pong, a Close.
    let bound = configuration.maxQueuedPongBytes + 2 * (6 + 125) + (sendEachTime ? message.count + 6 : 0)
    while !input.isAtEnd {
        let piece = input.piece(size: pieceSize)
        let eventsBefore = checker.events
        now += 1
        do throws(WebSocketError) {
            let consumed = try connection.receive(piece, now: now, handler: &checker)
            fuzzCheck(consumed == piece.count, "consumed \(consumed) of \(piece.count)")
            fuzzCheck(failure == nil, "a failed connection accepted bytes")
        } catch {
            if let failure {
                fuzzCheck(error == failure, "a failed connection threw \(error), first \(failure)")
                fuzzCheck(checker.events == eventsBefore, "events after the failure")
            } else {
                failure = error
            }
            fuzzCheck(connection.state == .failed(failure!), "state \(connection.state) after \(error)")
            fuzzCheck(error.offset >= 0, "a negative offset in \(error)")
        }
        connection.handleTimeouts(now: now)
        if case .closeSent = connection.state {
            fuzzCheck(connection.nextDeadline.map { $0 > now } ?? false, "waiting for the peer's Close past the deadline")
        } else {
            fuzzCheck(connection.nextDeadline == nil, "a close deadline in state \(connection.state)")
        }
        if writeEachTime && !echoes {
            connection.writeOutput(into: &output)
            fuzzCheck(output.count <= bound, "\(output.count) octets between two writes (Pong limit \(configuration.maxQueuedPongBytes))")
            fuzzCheck(!connection.hasPendingOutput, "output still pending after writing it")
            all += output
            output.removeAll(keepingCapacity: true)
        }
        if sendEachTime {
            _ = try? message.withUnsafeBytes { try connection.send(.text, payload: $0) }
        }
    }
    connection.writeOutput(into: &output)
    if !echoes { fuzzCheck(output.count <= (writeEachTime ? bound : Int.max), "\(output.count) octets at the end") }
    all += output
    checkOutput(all, sender: role, compressed: configuration.allowsCompressedMessages)
    return 0
}
