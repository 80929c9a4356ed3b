import ArgumentParser
import Dispatch
import EpsilonHTTPServer
import EpsilonTLS
import EpsilonTransport
import Foundation

/// `epsilon serve`: the HTTP server on the embedded default routes (see
/// HTTPServerDemoRoutes), until SIGINT or SIGTERM, then a graceful drain.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serves HTTP/1.1 (and HTTP/2 with --h2c or TLS) on the default routes until interrupted."
    )

    @Option(help: "Address to listen on (127.0.0.1, ::1, 0.0.0.0, ...).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: UInt16 = 8080

    @Option(help: "Event loops (default: one per core).")
    var loops: Int?

    @Flag(help: "Serve HTTP/2 in cleartext too: by prior knowledge and by Upgrade: h2c.")
    var h2c = false

    @Option(help: "Serve TLS with this certificate chain (PEM, leaf first); needs --key. ALPN h2, http/1.1.")
    var cert: String?

    @Option(help: "The private key (PEM or DER) of --cert.")
    var key: String?

    @Option(help: "Seconds in-flight requests get to finish on SIGINT/SIGTERM.")
    var gracePeriod: Double = 10

    @Option(help: "Seconds from a request's first byte to the end of its head.")
    var headTimeout: Double = 10

    @Option(help: "Seconds from the end of a request's head to the end of its body.")
    var bodyTimeout: Double = 30

    @Option(help: "Seconds a keep-alive connection may stay idle.")
    var idleTimeout: Double = 60

    @Option(help: "Seconds a connection may stay silent (no byte, or no finished TLS handshake).")
    var silentTimeout: Double = 30

    @Option(help: "The largest request body, in bytes (413 above).")
    var maxBody: UInt64 = 1 << 30

    @Option(help: "The largest request head, in bytes (431 above).")
    var maxHeaderBytes: Int = 16 * 1024

    @Option(help: "Requests one connection may make (then Connection: close, or GOAWAY on HTTP/2).")
    var maxRequests: Int = 10_000

    @Flag(help: "Answer every path with a plain-text hello (the old benchmark target).")
    var plainHello = false

    @Option(help: "The body --plain-hello answers with.")
    var body = "Hello, World!"

    func validate() throws {
        guard (cert == nil) == (key == nil) else { throw ValidationError("--cert and --key go together") }
        for (name, value) in [("--grace-period", gracePeriod), ("--head-timeout", headTimeout), ("--body-timeout", bodyTimeout),
                              ("--idle-timeout", idleTimeout), ("--silent-timeout", silentTimeout)] where !(value > 0 && value < 1e9) {
            throw ValidationError("\(name) must be a positive number of seconds")
        }
        if let loops, loops < 1 || loops > 1024 { throw ValidationError("--loops must be between 1 and 1024") }
        guard maxHeaderBytes >= 256 else { throw ValidationError("--max-header-bytes must be at least 256") }
        guard maxRequests >= 1 else { throw ValidationError("--max-requests must be at least 1") }
    }

    func run() async throws {
        var tls: TLSContext?
        if let cert, let key {
            do {
                tls = try HTTPServer.tlsContext(certificateFile: cert, privateKeyFile: key)
            } catch {
                throw ValidationError("cannot use --cert \(cert) --key \(key): \(error)")
            }
        }
        var configuration = HTTPServerConfiguration()
        configuration.headTimeout = .seconds(headTimeout)
        configuration.bodyTimeout = .seconds(bodyTimeout)
        configuration.idleTimeout = .seconds(idleTimeout)
        configuration.silentTimeout = .seconds(silentTimeout)
        configuration.maxBodyBytes = maxBody
        configuration.maxHeaderBytes = maxHeaderBytes
        configuration.maxRequestsPerConnection = maxRequests
        configuration.allowsCleartextHTTP2 = h2c
        var router = plainHello ? Self.plainHelloRouter(body: body) : HTTPServerDemoRoutes.router()
        if !plainHello { ServeWebSocketRoutes.add(to: &router) }

        // Signals are taken before the server starts, so an early SIGTERM is not lost.
        let signals = ServeSignals()
        let address = host.contains(":") ? try SocketEndpoint.ipv6(host, port: port) : try SocketEndpoint.ipv4(host, port: port)
        // EPSILON_POLLER picks the backend when set (epoll, io_uring, poll).
        let (backend, _) = PollerBackend.detect()
        let group = try IOLoopGroup(loopCount: loops ?? IOLoopGroup.coreCount, backend: backend)
        let server: HTTPServer
        do {
            server = try await HTTPServer.start(on: group, address: address, router: router,
                                                configuration: configuration, tls: tls)
        } catch {
            await group.shutdown()
            throw error
        }
        let protocols = tls != nil ? "TLS: h2, http/1.1" : h2c ? "HTTP/1.1, h2c" : "HTTP/1.1"
        let shown = host.contains(":") ? "[\(host)]" : host
        Self.say("epsilon serve: listening on \(shown):\(server.localAddress.port ?? port) (\(protocols))")
        await signals.wait()
        let forced = await server.shutdown(gracePeriod: .seconds(gracePeriod))
        await group.shutdown()
        Self.say("epsilon serve: stopped (\(forced) connection(s) closed by force)")
    }

    /// Writes a line to standard output at once (unbuffered, also through a pipe).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Every path, every common method: the hello.
    static func plainHelloRouter(body: String) -> HTTPRouter {
        var router = HTTPRouter()
        let hello = HTTPFixedResponse(status: 200, contentType: "text/plain", body: body)
        do throws(HTTPRoutePatternError) {
            for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
                try router.add(method, "/", fixed: hello)
                try router.add(method, "/**", fixed: hello)
            }
        } catch {
            preconditionFailure("hello routes rejected: \(error)")
        }
        return router
    }
}

/// SIGINT and SIGTERM as one awaitable event (the default actions are turned off).
final class ServeSignals {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init() {
        let (stream, continuation) = AsyncStream<Int32>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.stream = stream
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// Returns at the first signal.
    func wait() async {
        for await _ in stream { return }
    }
}
