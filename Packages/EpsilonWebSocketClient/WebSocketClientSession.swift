@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonHTTP1
import EpsilonWebSocket
import EpsilonWebSocketDeflate

/// The client's whole byte path without I/O: the opening handshake's request and response
/// (RFC 6455 §4.1), then frames through ``WebSocketConnection`` (client role) and, when
/// negotiated, permessage-deflate. The transport moves its bytes; the fuzz harness feeds it
/// arbitrary ones.
///
/// Not `Sendable`-safe to share: one session belongs to one connection, behind its lock.
struct WebSocketClientSession {
    enum Phase {
        case handshake
        case open
    }

    let handshake: WebSocketClientHandshake
    let compressionOffer: WebSocketDeflateClientOffer?
    let maxFrameSize: UInt64
    let maxMessageSize: Int
    let closeTimeout: UInt64
    private(set) var phase = Phase.handshake
    private var parser = HTTP1Parser(role: .response)
    private var head: [UInt8] = []
    private(set) var machine = WebSocketConnection(role: .client)
    private var plain = WebSocketClientCollector()
    private var inflating: WebSocketDeflateHandler<WebSocketClientCollector>?
    private var compressor: WebSocketDeflateCompressor?
    /// What the server accepted (subprotocol, extensions), once the handshake is through.
    private(set) var accepted: WebSocketClientHandshake.Accepted?
    private(set) var failure: WebSocketClientError?

    /// Builds the handshake for `url`; throws for fields the client sets itself or that hold CR/LF/NUL.
    init(url: WebSocketClientURL, configuration: WebSocketClientConfiguration, key: String = WebSocketHandshake.makeKey()) throws(WebSocketClientError) {
        let reserved: Set<String> = ["host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
                                     "sec-websocket-protocol", "sec-websocket-extensions", "content-length", "transfer-encoding"]
        var fields: [WebSocketHeaderField] = []
        for (name, value) in configuration.headers {
            guard !name.isEmpty, !reserved.contains(name.lowercased()),
                  name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }),
                  !value.utf8.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D })
            else { throw .invalidHeader(name) }
            fields.append(WebSocketHeaderField(name, value))
        }
        for name in configuration.subprotocols where name.isEmpty || !name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") }) {
            throw .invalidHeader("Sec-WebSocket-Protocol: \(name)")
        }
        compressionOffer = configuration.compression
        handshake = WebSocketClientHandshake(
            host: url.authority, target: url.target, key: key, subprotocols: configuration.subprotocols,
            extensions: configuration.compression.map { [$0.extensionOffer] } ?? [], extraFields: fields)
        maxFrameSize = configuration.maxFrameSize
        maxMessageSize = max(0, configuration.maxMessageSize)
        let (nanos, overflow) = UInt64(max(0, configuration.closeTimeout.components.seconds)).multipliedReportingOverflow(by: 1_000_000_000)
        closeTimeout = overflow ? .max : nanos &+ UInt64(max(0, configuration.closeTimeout.components.attoseconds / 1_000_000_000))
    }

    /// The request head to send first.
    func request() -> [UInt8] { handshake.request() }

    var isOpen: Bool { phase == .open }
    /// The Close the server sent (code, reason), once it arrived.
    var peerClose: (code: WebSocketCloseCode?, reason: String)? { collector.close }
    /// Pongs received so far.
    var pongCount: Int { collector.pongs }
    /// Whether the close handshake is over (or the connection failed): read no more.
    var isFinished: Bool {
        if failure != nil { return true }
        switch machine.state {
        case .closed, .failed: return true
        default: return false
        }
    }
    var negotiatedCompression: Bool { compressor != nil }

    private var collector: WebSocketClientCollector {
        inflating?.inner ?? plain
    }

    /// Takes the oldest complete message received, if any.
    mutating func nextMessage() -> WebSocketClientMessage? {
        if inflating != nil { return inflating!.inner.next() }
        return plain.next()
    }

    /// Feeds bytes read from the server: the handshake response first, frames after it.
    /// Errors stick: later calls throw the same error.
    mutating func receive(_ bytes: UnsafeRawBufferPointer, now: UInt64) throws(WebSocketClientError) {
        if let failure { throw failure }
        do throws(WebSocketClientError) {
            switch phase {
            case .handshake:
                head.append(contentsOf: bytes)
                guard let rest = try parseHead() else { return }
                head = []
                if !rest.isEmpty { try rest.withBytes { (raw) throws(WebSocketClientError) in try receiveFrames(raw, now: now) } }
            case .open:
                try receiveFrames(bytes, now: now)
            }
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func receiveFrames(_ bytes: UnsafeRawBufferPointer, now: UInt64) throws(WebSocketClientError) {
        do throws(WebSocketError) {
            if inflating != nil {
                try machine.receive(bytes, now: now, handler: &inflating!)
            } else {
                try machine.receive(bytes, now: now, handler: &plain)
            }
        } catch {
            throw .protocolViolation(error)
        }
    }

    /// Parses the response head once whole; returns the bytes after it (frames), nil until then.
    private mutating func parseHead() throws(WebSocketClientError) -> [UInt8]? {
        enum Outcome { case incomplete, failed(WebSocketClientError), accepted(WebSocketClientHandshake.Accepted, Int) }
        let outcome: Outcome = head.withUnsafeBytes { raw in
            var start = 0
            while true {
                let bytes = UnsafeRawBufferPointer(rebasing: raw[start...])
                let step: HTTP1Step
                do throws(HTTP1ParseError) {
                    step = try parser.parse(bytes)
                } catch {
                    return .failed(.invalidResponseHead("\(error)"))
                }
                switch step.event {
                case .head(let response) where response.status == 101:
                    do throws(WebSocketHandshakeError) {
                        let accepted = try handshake.validateResponse(
                            status: response.status, fields: parser.fields.lazy.map { (bytes[$0.name], bytes[$0.value]) })
                        return .accepted(accepted, start + response.length)
                    } catch {
                        return .failed(.handshake(error))
                    }
                case .head(let response) where response.status >= 200 || response.status < 100:
                    return .failed(.handshake(.statusNotSwitchingProtocols(response.status)))
                case .needMoreData where step.consumed == 0:
                    return .incomplete
                case .upgrade, .end:
                    // An interim response's end, or a switch without 101: nothing to wait for.
                    if step.consumed == 0 { return .failed(.invalidResponseHead("no 101 response")) }
                    start += step.consumed
                default:
                    start += step.consumed
                }
                if start >= raw.count { return .incomplete }
            }
        }
        switch outcome {
        case .incomplete:
            return nil
        case .failed(let error):
            throw error
        case .accepted(let accepted, let length):
            try open(accepted)
            return Array(head[length...])
        }
    }

    private mutating func open(_ accepted: WebSocketClientHandshake.Accepted) throws(WebSocketClientError) {
        var parameters: WebSocketDeflateParameters?
        if let offer = compressionOffer {
            do throws(WebSocketDeflateNegotiationError) {
                parameters = try offer.accept(extensions: accepted.extensions)
            } catch {
                throw .extensionNegotiation(error)
            }
        }
        var configuration = WebSocketConnection.Configuration()
        configuration.maxFramePayload = maxFrameSize
        configuration.maxMessageSize = UInt64(maxMessageSize)
        configuration.allowsCompressedMessages = parameters != nil
        configuration.closeTimeout = closeTimeout
        machine = WebSocketConnection(role: .client, configuration: configuration)
        plain.maxMessageSize = maxMessageSize
        if let parameters {
            compressor = WebSocketDeflateCompressor(parameters: parameters, role: .client)
            inflating = WebSocketDeflateHandler(
                plain, decompressor: WebSocketDeflateDecompressor(parameters: parameters, role: .client, maxMessageSize: maxMessageSize))
        }
        self.accepted = accepted
        phase = .open
    }

    // MARK: Sending

    /// Frames `message` (compressed when negotiated) into the machine's output.
    mutating func send(_ message: WebSocketClientMessage) throws(WebSocketClientError) {
        guard phase == .open else { throw .closed }
        do throws(WebSocketUsageError) {
            switch message {
            case .text(let text):
                let sent: Result<Void, WebSocketUsageError>? = text.utf8.withContiguousStorageIfAvailable { buffer in
                    Result { () throws(WebSocketUsageError) in try send(.text, UnsafeRawBufferPointer(buffer)) }
                }
                if let sent {
                    try sent.get()
                } else {
                    try Array(text.utf8).withBytes { (raw) throws(WebSocketUsageError) in try send(.text, raw) }
                }
            case .binary(let bytes):
                try bytes.withBytes { (raw) throws(WebSocketUsageError) in try send(.binary, raw) }
            }
        } catch {
            throw error == .sendNotAllowed ? .closed : .usage(error)
        }
    }

    private mutating func send(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer) throws(WebSocketUsageError) {
        if let compressor {
            try machine.sendCompressed(kind, payload: payload, compressor: compressor)
        } else {
            try machine.send(kind, payload: payload)
        }
    }

    /// Frames a Ping.
    mutating func sendPing(_ payload: [UInt8]) throws(WebSocketClientError) {
        guard phase == .open else { throw .closed }
        do throws(WebSocketUsageError) {
            try payload.withBytes { (raw) throws(WebSocketUsageError) in try machine.sendPing(raw) }
        } catch {
            throw error == .sendNotAllowed ? .closed : .usage(error)
        }
    }

    /// Starts the close handshake (or answers the server's Close).
    mutating func sendClose(code: WebSocketCloseCode?, reason: String, now: UInt64) throws(WebSocketClientError) {
        guard phase == .open else { throw .closed }
        do throws(WebSocketUsageError) {
            try machine.sendClose(code: code, reason: reason, now: now)
        } catch {
            throw error == .closeAlreadySent ? .closed : .usage(error)
        }
    }

    /// Appends the bytes to send, in order, to `buffer`.
    mutating func writeOutput(into buffer: inout [UInt8]) {
        machine.writeOutput(into: &buffer)
    }
}

/// Collects whole messages (bounded by the message limit, which the machine and the
/// decompressor enforce first), counts Pongs and keeps the server's Close.
struct WebSocketClientCollector: WebSocketEventHandler {
    var maxMessageSize = 16 << 20
    private var kind = WebSocketMessageKind.binary
    private var message: [UInt8] = []
    private var messages: [WebSocketClientMessage] = []
    private var head = 0
    private(set) var pongs = 0
    private(set) var close: (code: WebSocketCloseCode?, reason: String)?

    mutating func next() -> WebSocketClientMessage? {
        guard head < messages.count else { return nil }
        let message = messages[head]
        head += 1
        if head == messages.count {
            messages.removeAll(keepingCapacity: true)
            head = 0
        }
        return message
    }

    mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) {
        switch event {
        case .messageBegan(let kind, _):
            self.kind = kind
            message.removeAll(keepingCapacity: true)
        case .messageData(let view):
            if message.count + view.count > maxMessageSize {
                throw WebSocketError(.messageTooLarge, offset: connection.currentFrameOffset)
            }
            message.append(contentsOf: view.bytes)
        case .messageEnded:
            // Text was checked as UTF-8 by the machine (or the inflating handler).
            messages.append(kind == .text ? .text(String(decoding: message, as: UTF8.self)) : .binary(message))
        case .ping:
            break
        case .pong:
            pongs &+= 1
        case .close(let code, let reason):
            close = (code, reason.text)
        }
    }
}
