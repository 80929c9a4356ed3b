import EpsilonHTTP1
import HTTPTypes

/// The client's HTTP/1.1 exchange without I/O: requests framed into bytes, received bytes turned
/// into a response head and body chunks. ``HTTP1ClientConnection`` moves its bytes; the fuzz
/// harness feeds it arbitrary ones.
struct HTTP1ResponseReader {
    private var machine: HTTP1Connection
    /// Bytes received but not consumed (an incomplete head) followed by new ones.
    private var inbound: [UInt8] = []
    private var collector = ResponseCollector()
    /// Body chunks received, not yet handed out.
    private var chunks: [[UInt8]] = []
    private var chunkIndex = 0
    /// Whether any byte of the current response arrived.
    private(set) var receivedResponseBytes = false
    /// The peer broke the protocol, or the exchange was abandoned.
    private(set) var broken = false
    private(set) var sawEndOfStream = false
    /// The request is a `CONNECT`: a 2xx answer opens a tunnel instead of failing.
    var acceptsTunnel = false
    /// A 2xx answer to `CONNECT` arrived: the connection is now a tunnel.
    private(set) var tunnelled = false
    /// Bytes received and not consumed by the machine (after a tunnel's head: the peer spoke first).
    var unconsumedCount: Int { inbound.count }

    init(configuration: HTTP1Configuration = HTTP1Configuration()) {
        machine = HTTP1Connection(role: .client, configuration: configuration)
        collector.valuesChecked = configuration.leniencies.isDisjoint(with: [.controlBytesInValues, .obsoleteLineFolding])
    }

    /// Whether another request can follow on the same connection.
    var isReusable: Bool { !broken && !sawEndOfStream && !machine.isClosed && machine.isIdle && collector.ended }
    /// The final response head, once received.
    var head: HTTPResponse? { collector.head }
    /// Whether the whole response was received (its last chunks may still be buffered here).
    var responseComplete: Bool { collector.ended }
    /// Whether a body chunk is buffered.
    var hasChunk: Bool { chunkIndex < chunks.count }

    mutating func markBroken() { broken = true }

    // MARK: Request

    /// Frames a request head into `output`.
    mutating func startRequest(method: String, target: String, fields: [(name: String, value: String)],
                               body: HTTP1BodyLength, into output: inout [UInt8]) throws(HTTPClientError) {
        collector.reset()
        chunks.removeAll(keepingCapacity: true)
        chunkIndex = 0
        receivedResponseBytes = false
        do {
            try machine.sendRequestHead(method: method, target: target, fields: fields, body: body)
        } catch {
            throw .invalidRequest("\(error)")
        }
        machine.writeOutput(into: &output)
    }

    /// Frames a piece of the request body into `output`.
    mutating func sendBody(_ bytes: some Collection<UInt8>, into output: inout [UInt8]) throws(HTTPClientError) {
        do {
            try machine.sendBody(bytes)
        } catch {
            throw .invalidRequest("\(error)")
        }
        machine.writeOutput(into: &output)
    }

    /// Frames the end of the request body into `output`.
    mutating func sendEnd(into output: inout [UInt8]) throws(HTTPClientError) {
        do {
            try machine.sendEnd()
        } catch {
            throw .invalidRequest("\(error)")
        }
        machine.writeOutput(into: &output)
    }

    // MARK: Response

    /// The head's error, if the head could not become an `HTTPResponse`.
    func checkHead() throws(HTTPClientError) {
        if let error = collector.headError { throw .invalidResponseHead("\(error.rule): \(error.detail)") }
    }

    /// The next buffered body chunk.
    mutating func takeChunk() -> [UInt8]? {
        guard chunkIndex < chunks.count else { return nil }
        var chunk: [UInt8] = []
        swap(&chunk, &chunks[chunkIndex])
        chunkIndex += 1
        if chunkIndex == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            chunkIndex = 0
        }
        return chunk
    }

    /// Feeds bytes read from the connection.
    mutating func receive(_ read: [UInt8]) throws(HTTPClientError) {
        if broken { throw .connectionLost(nil) }
        receivedResponseBytes = true
        if inbound.isEmpty {
            inbound = read
        } else {
            inbound.append(contentsOf: read)
        }
        collector.bodyRanges.removeAll(keepingCapacity: true)
        let total = inbound.count
        let result: Result<Int, HTTP1ParseError> = inbound.withUnsafeBytes { bytes in
            collector.base = bytes.baseAddress
            defer { collector.base = nil }
            do throws(HTTP1ParseError) {
                return .success(try machine.receive(bytes, handler: &collector))
            } catch {
                return .failure(error)
            }
        }
        takeBody()
        switch result {
        case .success(let consumed):
            if consumed == total {
                inbound.removeAll(keepingCapacity: false)
            } else if consumed > 0 {
                inbound.removeFirst(consumed)
            }
            if machine.isUpgraded && acceptsTunnel {
                tunnelled = true
            } else if machine.isUpgraded {
                broken = true
                throw .invalidResponseHead("a 101 or 2xx switch of protocols the client did not ask for")
            }
            // Bytes after the end of a response that closes the connection are ignored (RFC 9112 §9.6).
        case .failure(let error):
            broken = true
            inbound.removeAll()
            // A complete response followed by garbage: the response stands, the connection does not.
            if collector.ended { return }
            throw .invalidResponse(error)
        }
    }

    /// Moves the body ranges of the last receive out of `inbound`: the buffer itself when it is
    /// all body (no copy), else copies.
    private mutating func takeBody() {
        guard !collector.bodyRanges.isEmpty else { return }
        if collector.bodyRanges.count == 1, collector.bodyRanges[0] == 0..<inbound.count {
            var whole: [UInt8] = []
            swap(&whole, &inbound)
            chunks.append(whole)
        } else {
            for range in collector.bodyRanges { chunks.append(Array(inbound[range])) }
        }
        collector.bodyRanges.removeAll(keepingCapacity: true)
    }

    /// The peer closed its side.
    mutating func receiveEndOfStream() throws(HTTPClientError) {
        sawEndOfStream = true
        if !receivedResponseBytes && collector.head == nil {
            broken = true
            throw .closedBeforeResponse
        }
        do {
            try machine.receiveEndOfStream(handler: &collector)
        } catch {
            broken = true
            throw .invalidResponse(error)
        }
        if !collector.ended {
            broken = true
            throw .connectionLost(nil)
        }
    }
}
