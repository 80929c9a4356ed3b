// The SwiftNIO peer for Benchmarks/load: a minimal NIOHTTP1 server on one event loop that
// answers every request with the same plain-text hello as `epsilon serve --plain-hello`
// (Server, Content-Type, Content-Length; keep-alive).
// Usage: nio-hello-server [port] [body]
import NIOCore
import NIOHTTP1
import NIOPosix

let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1])! : 8081
let body = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : "Hello, World!"

final class HelloHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let head: HTTPResponseHead
    let body: ByteBuffer

    init(body: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "nio-hello")
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        head = HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
        self.body = ByteBuffer(string: body)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

let handler = HelloHandler(body: body)
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 4096)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(handler)
        }
    }
    .bind(host: "127.0.0.1", port: port)
    .wait()
print("nio-hello-server on \(channel.localAddress!) (one event loop)")
try channel.closeFuture.wait()
