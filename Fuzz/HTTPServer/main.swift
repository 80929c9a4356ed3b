// Fuzzes the server's request path in memory: the session a real connection gets (HTTP/1.1;
// HTTP/2 by preface when the flags turn h2c on and the HTTP/2 side is wired in), the router,
// inline and fixed routes, a WebSocket echo route (HTTP/1.1 upgrade, HTTP/2 extended CONNECT),
// and a middleware stack (request id, CORS, compression, size limit).
// Properties: no crash; nothing is written after the connection closed; an HTTP/1.1 answer
// starts with a status line; HTTP/2 output is whole frames whose header blocks decode; the
// same stream split differently gives the same output (Date and generated request ids
// masked; HTTP/2 header blocks compared decoded, so HPACK's table state does not hide them).
// Input: a flags byte (bit 0 small limits, bit 1 h2c, bit 2 drain after the stream, bit 3
// end of stream, bit 4 advance time past every timeout), a count byte (0–15) and that many
// piece lengths (1–256), the stream.
import EpsilonHPACK
@_spi(EpsilonFuzz) import EpsilonHTTPServer
import EpsilonWebSocket
import FuzzSupport

let router: HTTPRouter = {
    var router = HTTPRouter()
    do throws(HTTPRoutePatternError) {
        try router.get("/hello", fixed: HTTPFixedResponse(status: 200, contentType: "text/plain", body: "Hello, World!"))
        // A WebSocket route: the HTTP/1.1 upgrade and, with h2c, RFC 8441 extended CONNECT
        // (announced by SETTINGS_ENABLE_CONNECT_PROTOCOL) with the echo driven over the stream.
        try router.webSocket("/ws", inline: { _ in FuzzWebSocketEcho() })
        let stack = HTTPMiddlewareChain(HTTPRequestIDMiddleware(),
                                        HTTPMiddlewareChain(HTTPCORSMiddleware(),
                                                            HTTPMiddlewareChain(HTTPCompressionMiddleware(minimumSize: 16),
                                                                                HTTPRequestSizeLimitMiddleware(maxBytes: 100))))
        try router.group("/api", middleware: stack) { (group) throws(HTTPRoutePatternError) in
            try group.get("/users/:id", inline: { request, responder in
                responder.respond(status: 200, fields: [("Content-Type", "application/json")],
                                  text: "{\"id\":\"" + (request.parameterString("id") ?? "") + "\", \"pad\":\"aaaaaaaaaaaaaaaaaaaa\"}")
            })
            try group.get("/files/**", inline: { request, responder in
                responder.writeHead(status: 200, bodyLength: nil)
                responder.writeBody(request.head.path)
                responder.writeEnd(trailers: [("X-Done", "1")])
            })
            try group.add("POST", "/form/*", fixed: HTTPFixedResponse(status: 201, body: Array("made".utf8)))
        }
    } catch {
        fatalError("fuzz routes rejected: \(error)")
    }
    return router
}()

/// Sends every WebSocket message back.
final class FuzzWebSocketEcho: WebSocketInlineHandler {
    func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, socket: WebSocketInlineSocket) {
        socket.send(kind, payload)
    }
}

func configuration(_ flags: UInt8) -> HTTPServerConfiguration {
    var configuration = HTTPServerConfiguration()
    if flags & 1 != 0 {
        configuration.maxHeaderBytes = 300
        configuration.maxHeaderCount = 8
        configuration.maxBodyBytes = 200
        configuration.maxRequestsPerConnection = 3
    }
    configuration.allowsCleartextHTTP2 = flags & 2 != 0
    return configuration
}

/// Drops what differs between two runs of the same stream: Date values and made request ids
/// (whose length grows with the counter).
func masked(_ output: [UInt8]) -> [UInt8] {
    let patterns = ["Date: ", "X-Request-Id: "].map { Array($0.utf8) }
    var out: [UInt8] = []
    out.reserveCapacity(output.count)
    var index = 0
    while index < output.count {
        if let pattern = patterns.first(where: { index + $0.count <= output.count && output[index..<(index + $0.count)].elementsEqual($0) }) {
            out += pattern
            index += pattern.count
            while index < output.count && output[index] != 13 { index += 1 }
        } else {
            out.append(output[index])
            index += 1
        }
    }
    return out
}

func run(_ stream: UnsafeRawBufferPointer, flags: UInt8, pieceEnds: [Int]) -> [UInt8] {
    let driver = HTTPServerFuzzDriver(router: router, configuration: configuration(flags))
    var output: [UInt8] = []
    var given = 0
    for end in pieceEnds + [stream.count] where end >= given && end <= stream.count {
        driver.receive(UnsafeRawBufferPointer(rebasing: stream[given..<end]))
        given = end
        output += driver.takeOutput()
        if driver.isClosed { break }
    }
    if flags & 8 != 0 { driver.receiveEndOfStream() }
    if flags & 4 != 0 { driver.drain() }
    if flags & 16 != 0 { driver.advanceTime(byNanoseconds: 120_000_000_000) }
    driver.runLoopTasks()
    let closedBefore = driver.isClosed
    output += driver.takeOutput()
    if closedBefore {
        driver.receive(UnsafeRawBufferPointer(rebasing: stream[0..<min(stream.count, 64)]))
        fuzzCheck(driver.takeOutput().isEmpty, "output after close")
    }
    if flags & 2 == 0 && !output.isEmpty {
        fuzzCheck(output.starts(with: "HTTP/1.1 ".utf8), "HTTP/1.1 output starts with \(escaped(output.prefix(16)))")
    }
    return masked(http2Decoded(output))
}

/// HTTP/2 output (after a `101` head, if any) rewritten as text with every header block
/// decoded, Date and request-id values masked (they differ between runs); checks that the
/// frames are whole and the blocks decode. HTTP/1.1 output comes back unchanged.
func http2Decoded(_ output: [UInt8]) -> [UInt8] {
    var start = 0
    let http1 = Array("HTTP/1.1 ".utf8)
    if output.starts(with: http1) {
        guard output.starts(with: "HTTP/1.1 101 ".utf8) else { return output }
        let end = Array("\r\n\r\n".utf8)
        guard let head = (0...(output.count - end.count)).first(where: { output[$0..<($0 + end.count)].elementsEqual(end) }) else {
            return output
        }
        start = head + end.count
    }
    guard start < output.count else { return output }
    var text = Array(output[..<start])
    var decoder = HPACKHeaderBlockDecoder()
    var block: [UInt8] = []
    var offset = start
    while offset < output.count {
        fuzzCheck(offset + 9 <= output.count, "HTTP/2 output ends inside a frame header")
        let length = Int(output[offset]) << 16 | Int(output[offset + 1]) << 8 | Int(output[offset + 2])
        let type = output[offset + 3]
        let flags = output[offset + 4]
        fuzzCheck(offset + 9 + length <= output.count, "HTTP/2 output ends inside a frame")
        var payload = Array(output[(offset + 9)..<(offset + 9 + length)])
        text += Array("\n[\(type) \(flags) ".utf8) + output[(offset + 5)..<(offset + 9)] + Array("] ".utf8)
        offset += 9 + length
        guard type == 1 || type == 5 || type == 9 else {
            text += payload
            continue
        }
        // HEADERS and PUSH_PROMISE: strip padding, priority, promised id; the server sends none but the last.
        if type == 1, flags & 0x20 != 0 { payload.removeFirst(min(5, payload.count)) }
        if type == 5 { payload.removeFirst(min(4, payload.count)) }
        block += payload
        guard flags & 0x4 != 0 else { continue }  // END_HEADERS
        do throws(HPACKError) {
            for field in try decoder.decodeFields(block) {
                let masked = field.name == "date" || field.name == "x-request-id"
                text += Array("\(field.name): \(masked ? "-" : field.value); ".utf8)
            }
        } catch {
            fuzzCheck(false, "server header block does not decode: \(error)")
        }
        block.removeAll()
    }
    return text
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let pieceLengths = (0..<Int(input.byte() & 15)).map { _ in Int(input.byte()) + 1 }
    let stream = input.rest()
    var pieceEnds: [Int] = []
    var end = 0
    for length in pieceLengths {
        end += length
        pieceEnds.append(end)
    }
    let whole = run(stream, flags: flags, pieceEnds: [])
    let split = run(stream, flags: flags, pieceEnds: pieceEnds)
    fuzzCheck(whole == split, "split changed the output (flags \(flags), pieces ending at \(pieceEnds.prefix(20))): \(escaped(stream.prefix(200)))")
    return 0
}
