import EpsilonHTTP1
import EpsilonTransport
import EpsilonWebSocket
import EpsilonWebSocketDeflate
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Echoes every message from inside `handle`, compressed when permessage-deflate was
/// negotiated. Pings are left to the connection's automatic Pong (the default).
private struct AutobahnEcho: WebSocketEventHandler {
    let compressor: WebSocketDeflateCompressor?
    var kind: WebSocketMessageKind = .binary
    var message: [UInt8] = []

    mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) {
        switch event {
        case .messageBegan(let kind, _):
            self.kind = kind
            message.removeAll(keepingCapacity: true)
        case .messageData(let view):
            message.append(contentsOf: view.bytes)
        case .messageEnded:
            // A refused send means our Close already went out: nothing more may be sent.
            if let compressor {
                try? message.withUnsafeBytes { try connection.sendCompressed(kind, payload: $0, compressor: compressor) }
            } else {
                try? message.withUnsafeBytes { try connection.send(kind, payload: $0) }
            }
        default:
            break
        }
    }
}

/// One connection of the echo server: the HTTP/1.1 machine reads the upgrade request, the
/// WebSocket handshake validates it, then the WebSocket machine (default configuration, plus
/// permessage-deflate when offered) takes every later read as it comes from the loop.
private final class AutobahnConnectionHandler: ConnectionHandler {
    var parser = HTTP1Parser(role: .request)
    var head: [UInt8] = []
    var machine: WebSocketConnection?
    var events = WebSocketDeflateHandler(AutobahnEcho(compressor: nil), decompressor: WebSocketDeflateDecompressor(noContextTakeover: false))
    var output: [UInt8] = []
    var closeTimer: LoopTimer?

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        if machine != nil {
            drive(connection, bytes)
            return
        }
        head.append(contentsOf: bytes)
        upgrade(connection)
    }

    // Parses the request head once it is whole and answers it: 101, or the refusal's 400/426.
    func upgrade(_ connection: Connection) {
        enum Outcome { case incomplete, refused([UInt8]), accepted(WebSocketServerHandshake.Request, Int) }
        let outcome: Outcome = head.withUnsafeBytes { raw in
            var start = 0
            while true {
                let bytes = UnsafeRawBufferPointer(rebasing: raw[start...])
                guard let step = try? parser.parse(bytes) else { return .refused(WebSocketHandshakeError.malformedHeader.response()!) }
                switch step.event {
                case .head(let request):
                    do throws(WebSocketHandshakeError) {
                        let accepted = try WebSocketServerHandshake.validateRequest(
                            method: bytes[request.method], target: bytes[request.target],
                            version: (Int(request.version.major), Int(request.version.minor)),
                            fields: parser.fields.lazy.map { (bytes[$0.name], bytes[$0.value]) })
                        return .accepted(accepted, start + request.length)
                    } catch {
                        return .refused(error.response()!)
                    }
                case .needMoreData where step.consumed == 0:
                    return .incomplete
                default:
                    start += step.consumed
                }
            }
        }
        switch outcome {
        case .incomplete:
            return
        case .refused(let response):
            connection.write(response)
            connection.closeAfterFlush()
        case .accepted(let request, let length):
            let negotiated = WebSocketDeflateServerPolicy().accept(offers: request.extensions)
            connection.write(WebSocketServerHandshake.response(for: request, extensions: negotiated.map { [$0.response] } ?? []))
            var configuration = WebSocketConnection.Configuration()
            configuration.allowsCompressedMessages = negotiated != nil
            machine = WebSocketConnection(role: .server, configuration: configuration)
            if let parameters = negotiated?.parameters {
                events = WebSocketDeflateHandler(
                    AutobahnEcho(compressor: WebSocketDeflateCompressor(parameters: parameters, role: .server)),
                    decompressor: WebSocketDeflateDecompressor(parameters: parameters, role: .server))
            }
            // Bytes the client sent right after its head already belong to the WebSocket.
            let rest = Array(head[length...])
            head = []
            if !rest.isEmpty { rest.withUnsafeBytes { drive(connection, $0) } }
        }
    }

    func drive(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        // A peer error leaves the Close that reports it in the output; the state says so.
        _ = try? machine!.receive(bytes, now: MonotonicClock.now(), handler: &events)
        flush(connection)
    }

    func flush(_ connection: Connection) {
        machine!.writeOutput(into: &output)
        if !output.isEmpty {
            connection.write(output)
            output.removeAll(keepingCapacity: true)
        }
        switch machine!.state {
        case .closed, .failed:
            // RFC 6455 §7.1.1: the server closes the TCP connection first; half-close so the
            // client's last bytes are read rather than reset, and give it a moment.
            connection.shutdownOutput()
            if closeTimer == nil {
                closeTimer = connection.loop.scheduleTimer(after: .seconds(2)) { connection.close() }
            }
        case .closeSent:
            if closeTimer == nil, let deadline = machine!.nextDeadline {
                let delay = Duration.nanoseconds(Int64(clamping: deadline &- min(deadline, MonotonicClock.now())))
                closeTimer = connection.loop.scheduleTimer(after: delay) { [self] in
                    closeTimer = nil
                    machine!.handleTimeouts(now: MonotonicClock.now())
                    flush(connection)
                }
            }
        case .open, .closeReceived:
            break
        }
    }

    func connectionDidClose(_ connection: Connection, error: TransportError?) {
        if let closeTimer { connection.loop.cancelTimer(closeTimer) }
        closeTimer = nil
    }
}

/// The Autobahn case files, run by kosoku (`pip install kosoku`) in fuzzingclient mode against
/// an echo server built on EpsilonTransport, the HTTP/1.1 parser, the WebSocket handshake and
/// a default-configured WebSocketConnection with permessage-deflate over real sockets on
/// 127.0.0.1. By default the core sections run (about a minute); `EPSILON_AUTOBAHN_ALL=1`
/// runs all 517 cases.
@Suite(.serialized) struct WebSocketAutobahnOverSockets {
    /// Sections 1–7 (framing, pings, reserved bits, opcodes, fragmentation, UTF-8, close), the
    /// smaller messages of section 9, and the first compression cases of 12 and 13.
    static let coreCases = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.1.1", "9.1.2", "9.2.1", "9.2.2",
                            "9.7.1", "9.8.1", "12.1.1", "12.1.2", "12.1.3", "12.1.4", "12.1.5", "12.2.1", "12.2.2",
                            "13.1.1", "13.1.2", "13.1.3", "13.1.4", "13.1.5", "13.3.1", "13.5.1", "13.7.1"]

    @Test(.timeLimit(.minutes(20)))
    func passesTheAutobahnCasesWithDefaultSettings() async throws {
        let group = try IOLoopGroup(loopCount: 1)
        let server = try await TCPServer.start(on: group, address: try SocketEndpoint.ipv4("127.0.0.1", port: 0)) {
            AutobahnConnectionHandler()
        }
        let port = try #require(server.localAddress.port)
        let all = ProcessInfo.processInfo.environment["EPSILON_AUTOBAHN_ALL"] != nil
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("epsilon-autobahn-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        // Cases run 8 at a time: most of a case's time is the fuzzer waiting, not work.
        var arguments = ["kosoku", "-m", "fuzzingclient", "-p", "8", "-o", reports.path]
        if !all { for pattern in Self.coreCases { arguments += ["-i", pattern] } }
        let output = try runKosoku(arguments + ["127.0.0.1:\(port)"])
        await server.shutdown(gracePeriod: .zero)
        await group.shutdown()

        guard let data = try? Data(contentsOf: reports.appendingPathComponent("index.json")) else {
            Issue.record("kosoku wrote no report (is it installed? pip install kosoku): \(output.suffix(2000))")
            return
        }
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: [String: Any]]])
        var counts: [String: Int] = [:]
        var failed: [String] = []
        var notes: [String] = []
        for (_, cases) in root {
            for (id, result) in cases {
                let behavior = result["behavior"] as? String ?? "?"
                let close = result["behaviorClose"] as? String ?? "?"
                counts[behavior, default: 0] += 1
                if !["OK", "NON-STRICT", "INFORMATIONAL"].contains(behavior) || !["OK", "INFORMATIONAL"].contains(close) {
                    failed.append("\(id): \(behavior)/\(close)")
                } else if behavior != "OK" {
                    notes.append("\(id): \(behavior)")
                }
            }
        }
        let total = counts.values.reduce(0, +)
        print("Autobahn over sockets (\(all ? "all cases" : "core sections")), not OK but allowed: \(notes.sorted())")
        print("Autobahn over sockets: \(total) cases, \(failed.count) failed; \(counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        #expect(total >= (all ? 517 : 250))
        #expect(failed.isEmpty, "\(failed.sorted().prefix(60))")
    }

    /// Runs kosoku to completion, collecting its output.
    func runKosoku(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let log = Pipe()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let output = log.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }
}
