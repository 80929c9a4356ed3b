// The Hummingbird 2 peer for Benchmarks/load/server.sh: the same two routes as `epsilon serve`'s
// benchmark rows, on one event loop.
//   GET /hello          → 200 text/plain "Hello, World!" (no middleware)
//   GET /api/users/:id  → 200 application/json {"id":"<id>"} behind three middleware
//                          (request id, CORS, a compression negotiation that leaves small
//                          bodies alone), like epsilon's routed row.
// Usage: hummingbird-server PORT
import Hummingbird
import HTTPTypes
import NIOCore
import NIOPosix

/// Adds an `X-Request-Id` header (a counter per connection-less process, like epsilon's request id).
struct BenchRequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[HTTPField.Name("X-Request-Id")!] = request.headers[HTTPField.Name("X-Request-Id")!] ?? "\(UInt64.random(in: 1...UInt64.max))"
        return response
    }
}

/// Reads `Accept-Encoding` and leaves bodies under 1 KiB uncompressed, as epsilon's compression
/// middleware does with its minimum size (the routed body is 13 bytes, so it never compresses).
struct BenchCompressionCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let wantsGzip = request.headers[.acceptEncoding]?.contains("gzip") ?? false
        var response = try await next(request, context)
        if wantsGzip, (response.body.contentLength ?? 0) >= 1024 {
            response.headers[.vary] = "Accept-Encoding"
        }
        return response
    }
}

let arguments = CommandLine.arguments
let port = arguments.count > 1 ? Int(arguments[1]) ?? 8080 : 8080

let router = Router()
router.get("hello") { _, _ -> Response in
    Response(
        status: .ok, headers: [.contentType: "text/plain"],
        body: .init(byteBuffer: ByteBuffer(string: "Hello, World!")))
}
let api = router.group("api")
    .add(middleware: BenchRequestIDMiddleware())
    .add(middleware: CORSMiddleware(allowOrigin: .all))
    .add(middleware: BenchCompressionCheckMiddleware())
api.get("users/:id") { _, context -> Response in
    let id = context.parameters.get("id") ?? ""
    return Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: "{\"id\":\"\(id)\"}")))
}

let app = Application(
    responder: router.buildResponder(),
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hummingbird", backlog: 4096),
    eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: 1))
)
try await app.runService()
