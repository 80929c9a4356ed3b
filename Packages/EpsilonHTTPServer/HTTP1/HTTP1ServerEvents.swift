import EpsilonHTTP1
import EpsilonHTTPTypes

/// The ``HTTP1ConnectionHandler`` of an ``HTTP1ServerSession``: turns the machine's events
/// into dispatcher calls (rule 2 of the seam). A struct, so the machine calls it statically.
struct HTTP1ServerEvents: HTTP1ConnectionHandler {
    unowned let session: HTTP1ServerSession
    /// Set when a request was answered with `101` to `Upgrade: h2c`.
    var upgrade: HTTPServerH2CUpgrade?
    /// The last head was an HTTP/1.0 request: it gets no `100 Continue` (RFC 9110 §10.1.1,
    /// §15.2: no 1xx to an HTTP/1.0 client).
    var requestIsHTTP10 = false

    init(session: HTTP1ServerSession) {
        self.session = session
    }

    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, connection: inout HTTP1Connection) throws(HTTP1ParseError) {
        switch event {
        case .head(let head):
            try withUnsafeMutablePointer(to: &connection) { (machine) throws(HTTP1ParseError) in
                session.activeMachine = machine
                defer { session.activeMachine = nil }
                try receivedHead(head, bytes: bytes, machine: machine)
            }
        case .expectContinue:
            // Only a handler that will read the body is worth the client sending it.
            if !requestIsHTTP10, let current = session.current, current.exchange != nil, !current.headSent {
                try? connection.sendContinue()
                session.sentContinue = true
            }
        case .body(let range):
            guard let exchange = session.current?.exchange else { return }
            session.current?.unconsumed += range.count
            withUnsafeMutablePointer(to: &connection) { machine in
                session.activeMachine = machine
                defer { session.activeMachine = nil }
                exchange.receiveBody(UnsafeRawBufferPointer(rebasing: bytes[range]))
            }
            session.pauseIfBodyBacklogged()
        case .trailers:
            guard session.current?.requestEnded == false else { return }
            session.current?.requestEnded = true
            let trailers = HTTPRequestFieldLines(http1: HTTP1FieldLines(connection.fields, in: bytes))
            guard let exchange = session.current?.exchange else { return }
            withUnsafeMutablePointer(to: &connection) { machine in
                session.activeMachine = machine
                defer { session.activeMachine = nil }
                exchange.receiveEnd(trailers: trailers)
            }
        case .end:
            guard session.current?.requestEnded == false else {
                session.requestFinished()
                return
            }
            session.current?.requestEnded = true
            if let exchange = session.current?.exchange {
                withUnsafeMutablePointer(to: &connection) { machine in
                    session.activeMachine = machine
                    defer { session.activeMachine = nil }
                    exchange.receiveEnd(trailers: nil)
                }
            }
            session.requestFinished()
        case .needMoreData, .chunkHeader, .chunkEnd, .upgrade:
            break
        }
    }

    /// Builds the protocol-neutral view of the head and dispatches it.
    private mutating func receivedHead(_ head: HTTP1Head, bytes: UnsafeRawBufferPointer,
                                       machine: UnsafeMutablePointer<HTTP1Connection>) throws(HTTP1ParseError) {
        let isConnect = bytes.matches(head.method, "CONNECT")
        let target = try HTTP1RequestTarget.split(bytes, head.target, isConnect: isConnect)
        let fields = HTTP1FieldLines(machine.pointee.fields, in: bytes)
        requestIsHTTP10 = head.version == .http10
        let host: UnsafeRawBufferPointer?
        switch HTTP1RequestChecks.check(framing: head.framing, fields: fields, bytes: bytes, isHTTP10: requestIsHTTP10) {
        case .refused(let status):
            // Refused by the server's own checks: `failed` answers with `status` and closes.
            // Only the status is used; the handler does not know the stream offset, hence 0.
            session.refusalStatus = status
            throw HTTP1ParseError(status == 501 ? .invalidTransferEncoding : .invalidFieldValue, at: 0)
        case .accepted(let value):
            host = value
        }
        let authority = target.authority.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) } ?? host
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let contentLength: UInt64? = switch head.framing {
        case .none: 0
        case .contentLength(let length): length
        case .chunked, .untilClose: nil
        }
        let view = HTTPRequestHeadView(
            method: UnsafeRawBufferPointer(rebasing: bytes[head.method]),
            scheme: session.io.isSecure ? HTTPServerStaticBytes.https : HTTPServerStaticBytes.http,
            authority: authority ?? empty,
            path: target.path.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) } ?? (isConnect ? empty : HTTPServerStaticBytes.slash),
            query: target.query.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) },
            fields: HTTPRequestFieldLines(http1: fields),
            version: head.version == .http10 ? .http1_0 : .http1_1,
            contentLength: contentLength)
        if head.upgrade, contentLength == 0, let upgrade = session.h2cUpgrade(view, target: UnsafeRawBufferPointer(rebasing: bytes[head.target])) {
            self.upgrade = upgrade
            return
        }
        session.dispatch(view, isHead: bytes.matches(head.method, "HEAD"))
    }
}

/// Constant byte views the HTTP/1.1 session hands out (scheme, default path).
enum HTTPServerStaticBytes {
    static var http: UnsafeRawBufferPointer { view("http") }
    static var https: UnsafeRawBufferPointer { view("https") }
    static var slash: UnsafeRawBufferPointer { view("/") }

    private static func view(_ text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }
}

extension UnsafeRawBufferPointer {
    /// Whether `self[range]` is exactly `text`.
    func matches(_ range: Range<Int>, _ text: StaticString) -> Bool {
        UnsafeRawBufferPointer(rebasing: self[range])
            .elementsEqual(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
