// HTTP/1.1 parsing: EpsilonHTTP1 against picohttpparser, llhttp, http-parser and NIOHTTP1.
import CBenchPeers
import EpsilonHTTP1
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// What a parser saw, folded to one number all sides must agree on.
struct Seen {
    var messages = 0, fields = 0, fieldBytes = 0, bodyBytes = 0
    var check: Int { messages &* 1_000_003 &+ fields &* 10_007 &+ fieldBytes &* 31 &+ bodyBytes }
}

extension bench_summary {
    var check: Int {
        Seen(messages: Int(messages), fields: Int(fields), fieldBytes: Int(field_bytes), bodyBytes: Int(body_bytes)).check
    }
}

/// Stable storage for an input: C peers and ours read the same bytes.
final class Input {
    let pointer: UnsafeMutableRawBufferPointer
    init(_ bytes: [UInt8]) {
        pointer = .allocate(byteCount: bytes.count, alignment: 64)
        pointer.copyBytes(from: bytes)
    }
    var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(pointer) }
    var base: UnsafePointer<UInt8> { UnsafePointer(pointer.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    deinit { pointer.deallocate() }
}

/// Ours: one parser per connection, reused, every message in the buffer parsed by one
/// `receive` call, fields walked.
/// The parser lives in memory this side owns, not in a class property: a `var` of a class is
/// checked for exclusive access at run time on every mutating call (swift_beginAccess), which
/// callgrind showed costing more than the parsing itself on small events. Users who keep the
/// parser in a class property pay that; see the README.
final class EpsilonSide {
    let storage: UnsafeMutablePointer<HTTP1Parser>
    init(role: HTTP1Parser.Role) {
        storage = .allocate(capacity: 1)
        storage.initialize(to: HTTP1Parser(role: role))
    }
    deinit { storage.deinitialize(count: 1); storage.deallocate() }

    @inline(never)
    func parseAll(_ bytes: UnsafeRawBufferPointer, into seen: inout Seen) {
        parseAll(bytes, parser: &storage.pointee, into: &seen)
    }

    func parseAll(_ bytes: UnsafeRawBufferPointer, parser: inout HTTP1Parser, into seen: inout Seen) {
        // `receive(_:handler:)`, the contract's verb (Documentation/DrivingAMachine.md): every
        // event the bytes hold, in one call.
        var counter = SeenCounter(seen: seen)
        let consumed: Int
        do {
            consumed = try parser.receive(bytes, handler: &counter)
        } catch {
            fatalError("EpsilonHTTP1 rejected the input: \(error)")
        }
        precondition(consumed == bytes.count, "EpsilonHTTP1 left bytes of whole messages unconsumed")
        seen = counter.seen
    }
}

/// Counts what the parser hands out, as the C sides count it.
struct SeenCounter: HTTP1EventHandler {
    var seen: Seen

    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, fields: [HTTP1Field]) throws(HTTP1ParseError) {
        switch event {
        case .head:
            seen.fields += fields.count
            for field in fields { seen.fieldBytes &+= field.name.count &+ field.value.count }
        case .body(let range):
            seen.bodyBytes &+= range.count
        case .end:
            seen.messages += 1
        default:
            break
        }
    }
}

/// SwiftNIO: HTTPRequestDecoder / HTTPResponseDecoder in an EmbeddedChannel, reused.
final class NIOSide {
    let channel = EmbeddedChannel()
    let buffer: ByteBuffer
    let response: Bool
    let requestHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")

    init(_ bytes: [UInt8], response: Bool) {
        self.response = response
        buffer = ByteBufferAllocator().buffer(bytes: bytes)
        if response {
            try! channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder()))
        } else {
            try! channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        }
    }

    func parseAll(into seen: inout Seen) {
        if response {
            // The response decoder must see the request head go out to frame the response.
            try! channel.writeOutbound(HTTPClientRequestPart.head(requestHead))
            _ = try! channel.readOutbound(as: HTTPClientRequestPart.self)
        }
        try! channel.writeInbound(buffer)
        if response {
            while let part = try! channel.readInbound(as: HTTPClientResponsePart.self) {
                switch part {
                case .head(let head): count(head.headers, &seen)
                case .body(let body): seen.bodyBytes &+= body.readableBytes
                case .end: seen.messages += 1
                }
            }
        } else {
            while let part = try! channel.readInbound(as: HTTPServerRequestPart.self) {
                switch part {
                case .head(let head): count(head.headers, &seen)
                case .body(let body): seen.bodyBytes &+= body.readableBytes
                case .end: seen.messages += 1
                }
            }
        }
    }

    func count(_ headers: HTTPHeaders, _ seen: inout Seen) {
        seen.fields += headers.count
        for (name, value) in headers { seen.fieldBytes &+= name.utf8.count &+ value.utf8.count }
    }
}

func http1Workload(id: String, title: String, input bytes: [UInt8], response: Bool, items: Int) -> Workload {
    let input = Input(bytes)
    let raw = input.raw
    let ours = EpsilonSide(role: response ? .response : .request)
    let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
    let llhttp = bench_llhttp_new(response ? 1 : 0)
    let httpParser = bench_http_parser_new(response ? 1 : 0)
    let nio = NIOSide(bytes, response: response)

    let pico = Contender(name: "picohttpparser", note: response ? "picohttpparser parses heads only: its side finds Content-Length/Transfer-Encoding itself and, for chunked, copies the body to decode it in place" : nil) { ops in
        var summary = bench_summary()
        for _ in 0..<ops {
            let status = response
                ? bench_pico_responses(input.base, raw.count, scratch, bytes.count, &summary)
                : bench_pico_requests(input.base, raw.count, &summary)
            precondition(status == 0, "picohttpparser rejected the input")
        }
        return summary.check / ops
    }
    return Workload(
        id: id, title: title, unit: response ? "resp" : "req", itemsPerOp: items, bytesPerOp: bytes.count,
        ours: Contender(name: "epsilon") { ops in
            var seen = Seen()
            for _ in 0..<ops { ours.parseAll(raw, into: &seen) }
            return seen.check / ops
        },
        peers: [
            pico,
            Contender(name: "llhttp") { ops in
                var summary = bench_summary()
                for _ in 0..<ops { precondition(bench_llhttp_parse(llhttp, input.base, raw.count, &summary) == 0, "llhttp rejected the input") }
                return summary.check / ops
            },
            Contender(name: "http-parser") { ops in
                var summary = bench_summary()
                for _ in 0..<ops { precondition(bench_http_parser_parse(httpParser, input.base, raw.count, &summary) == 0, "http-parser rejected the input") }
                return summary.check / ops
            },
            Contender(name: "nio-http1", note: "NIOHTTP1 builds HTTPHeaders (String storage) and wraps every part in NIOAny, as its users get them") { ops in
                var seen = Seen()
                for _ in 0..<ops { nio.parseAll(into: &seen) }
                return seen.check / ops
            },
        ]
    )
}

func http1Workloads() -> [Workload] {
    [
        http1Workload(id: "pico-703", title: "request, pico bench (703 B)", input: HTTP1Inputs.picoBenchmark, response: false, items: 1),
        http1Workload(id: "browser-10", title: "request, browser 10 fields", input: HTTP1Inputs.browser10, response: false, items: 1),
        http1Workload(id: "browser-30", title: "request, 30 fields + cookies", input: HTTP1Inputs.browser30, response: false, items: 1),
        http1Workload(id: "pipelined-32", title: "32 pipelined small requests", input: HTTP1Inputs.pipelined32, response: false, items: 32),
        http1Workload(id: "response-cl", title: "response, Content-Length 4 KiB", input: HTTP1Inputs.contentLength4K, response: true, items: 1),
        http1Workload(id: "response-chunked", title: "response, chunked 16 x 1 KiB", input: HTTP1Inputs.chunked16x1K, response: true, items: 1),
    ]
}
