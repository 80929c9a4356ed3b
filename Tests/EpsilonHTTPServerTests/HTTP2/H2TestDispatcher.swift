@testable import EpsilonHTTPServer
import Synchronization

/// A dispatcher with a few fixed routes for the HTTP/2 session tests (the real router is the
/// core's): it records what it saw so tests can check cancellation and back-pressure.
///
/// - `GET /hello`: inline, `200` with `Hello, World!` (declared length).
/// - `POST /echo`: streams the body back as it arrives, no length; consumes what it echoed.
/// - `POST /stall`: reads nothing, never answers (until aborted).
/// - `GET /bytes/N`: `N` bytes (`i % 256`), declared length, written as the sink allows.
/// - `GET /stream/N`: the same without a length, then a trailer `x-count: N`.
/// - `GET /push`: pushes `/hello`, then answers `pushed`.
/// - `POST /early`: answers `204` at once but still returns an exchange for the body.
/// - anything else: `404`.
final class H2TestDispatcher: HTTPServerDispatcher {
    struct Record {
        var paths: [String] = []
        var aborted: [String] = []
        var bodyBytes: [String: Int] = [:]
        var pushResults: [String] = []
        var trailers: [String: [String]] = [:]
    }

    let record = Mutex(Record())

    func requestHead(_ head: HTTPRequestHeadView, exchange: HTTPExchangeID, sink: any HTTPResponseSink) -> (any HTTPServerExchange)? {
        let path = head.string(head.path)
        record.withLock { $0.paths.append(path) }
        switch path {
        case "/hello":
            let body = Array("Hello, World!".utf8)
            sink.sendHead(exchange, status: 200, fields: [("Content-Type", "text/plain")], bodyLength: UInt64(body.count))
            body.withUnsafeBytes { sink.sendBody(exchange, $0) }
            sink.sendEnd(exchange, trailers: [])
            return nil
        case "/echo":
            sink.sendHead(exchange, status: 200, fields: [("content-type", "application/octet-stream")], bodyLength: nil)
            return H2EchoExchange(id: exchange, sink: sink, path: path, record: self)
        case "/stall":
            return H2StallExchange(path: path, record: self)
        case "/early":
            sink.sendHead(exchange, status: 204, fields: [], bodyLength: 0)
            return H2StallExchange(path: path, record: self)
        case "/push":
            var result = "no push sink"
            if let pusher = sink as? any HTTPServerPushSink {
                do throws(HTTP2ServerPushError) {
                    let pushed = try pusher.push(from: exchange, path: "/hello", fields: [])
                    result = "pushed \(pushed.rawValue)"
                } catch {
                    result = "\(error)"
                }
            }
            record.withLock { $0.pushResults.append(result) }
            let body = Array("pushed".utf8)
            sink.sendHead(exchange, status: 200, fields: [], bodyLength: UInt64(body.count))
            body.withUnsafeBytes { sink.sendBody(exchange, $0) }
            sink.sendEnd(exchange, trailers: [])
            return nil
        default:
            if path.hasPrefix("/bytes/") || path.hasPrefix("/stream/"), let count = Int(path.split(separator: "/").last ?? "") {
                let streamed = path.hasPrefix("/stream/")
                sink.sendHead(exchange, status: 200, fields: [], bodyLength: streamed ? nil : UInt64(count))
                let writer = H2BytesExchange(id: exchange, sink: sink, total: count, trailers: streamed)
                writer.responseWritable()
                return writer
            }
            sink.sendHead(exchange, status: 404, fields: [], bodyLength: 0)
            return nil
        }
    }

    func aborted(_ path: String) { record.withLock { $0.aborted.append(path) } }
}

/// Echoes each piece of body as it arrives and reports it consumed.
final class H2EchoExchange: HTTPServerExchange {
    let id: HTTPExchangeID
    let sink: any HTTPResponseSink
    let path: String
    let record: H2TestDispatcher

    init(id: HTTPExchangeID, sink: any HTTPResponseSink, path: String, record: H2TestDispatcher) {
        self.id = id
        self.sink = sink
        self.path = path
        self.record = record
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) {
        record.record.withLock { $0.bodyBytes[path, default: 0] += bytes.count }
        sink.sendBody(id, bytes)
        sink.bodyConsumed(id, count: bytes.count)
    }

    func receiveEnd(trailers: HTTPRequestFieldLines?) {
        var names: [String] = []
        trailers?.forEachFieldLine { name, value in
            names.append(String(decoding: name, as: UTF8.self) + ": " + String(decoding: value, as: UTF8.self))
        }
        if !names.isEmpty { record.record.withLock { $0.trailers[path] = names } }
        sink.sendEnd(id, trailers: [])
    }

    func abort() { record.aborted(path) }
    func responseWritable() {}
}

/// Takes body bytes and never reads them (nor answers).
final class H2StallExchange: HTTPServerExchange {
    let path: String
    let record: H2TestDispatcher

    init(path: String, record: H2TestDispatcher) {
        self.path = path
        self.record = record
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) {
        record.record.withLock { $0.bodyBytes[path, default: 0] += bytes.count }
    }

    func receiveEnd(trailers: HTTPRequestFieldLines?) {}
    func abort() { record.aborted(path) }
    func responseWritable() {}
}

/// Writes `total` bytes (`i % 256`) as fast as `writableBytes` allows.
final class H2BytesExchange: HTTPServerExchange {
    let id: HTTPExchangeID
    let sink: any HTTPResponseSink
    let total: Int
    let trailers: Bool
    private var written = 0
    private var chunk: [UInt8] = []
    private var ended = false

    init(id: HTTPExchangeID, sink: any HTTPResponseSink, total: Int, trailers: Bool) {
        self.id = id
        self.sink = sink
        self.total = total
        self.trailers = trailers
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) { sink.bodyConsumed(id, count: bytes.count) }
    func receiveEnd(trailers: HTTPRequestFieldLines?) {}
    func abort() { ended = true }

    func responseWritable() {
        while !ended && written < total {
            let room = sink.writableBytes(id)
            guard room > 0 else { return }
            let count = min(room, total - written, 16 * 1024)
            chunk.removeAll(keepingCapacity: true)
            for index in written..<(written + count) { chunk.append(UInt8(truncatingIfNeeded: index)) }
            written += count
            chunk.withUnsafeBytes { sink.sendBody(id, $0) }
        }
        guard !ended, written == total else { return }
        ended = true
        sink.sendEnd(id, trailers: trailers ? [("X-Count", String(total))] : [])
    }
}
