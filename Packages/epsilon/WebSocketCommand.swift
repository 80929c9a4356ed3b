import ArgumentParser
import EpsilonWebSocket
import EpsilonWebSocketClient
import EpsilonWebSocketDeflate
import Foundation

/// `epsilon ws URL`: a WebSocket client on the terminal. Each line of standard input is sent
/// as a text message; each message received is written to standard output (text as a line,
/// binary as its bytes then a newline). At the end of standard input it closes (1000) and
/// exits once the server answered.
struct WebSocketCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ws",
        abstract: "Connects to a WebSocket server: stdin lines become text messages, received messages go to stdout."
    )

    @Argument(help: "The URL (ws:// or wss://).")
    var url: String

    @Flag(help: "Reconnect with backoff when the connection is lost; lines typed meanwhile are queued.")
    var reconnect = false

    @Option(name: .customShort("H"), help: "A request field, \"Name: value\" (repeatable).")
    var header: [String] = []

    @Option(help: "A subprotocol to offer (repeatable).")
    var subprotocol: [String] = []

    @Flag(help: "Offer permessage-deflate.")
    var compress = false

    @Option(help: "Send a Ping every this many seconds; no Pong within the same time declares the connection dead.")
    var heartbeat: Double?

    @Option(help: "Trust these CA certificates (PEM) instead of the system store.")
    var cacert: String?

    @Flag(name: .shortAndLong, help: "Do not verify the server's certificate (testing only).")
    var insecure = false

    @Flag(name: .shortAndLong, help: "Print state changes and the close code on standard error.")
    var verbose = false

    func validate() throws {
        for field in header where !field.contains(":") { throw ValidationError("-H \(field): expected \"Name: value\"") }
        if let heartbeat, !(heartbeat > 0) { throw ValidationError("--heartbeat must be positive") }
    }

    func clientConfiguration() throws -> WebSocketClientConfiguration {
        var configuration = WebSocketClientConfiguration()
        configuration.headers = header.map { field in
            let colon = field.firstIndex(of: ":")!
            return (String(field[..<colon]).trimmingCharacters(in: .whitespaces),
                    String(field[field.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        configuration.subprotocols = subprotocol
        if compress { configuration.compression = WebSocketDeflateClientOffer() }
        if let heartbeat {
            let period = Duration.milliseconds(Int64(heartbeat * 1000))
            configuration.heartbeat = WebSocketClientHeartbeat(interval: period, pongTimeout: period)
        }
        if let cacert {
            do {
                configuration.tls.trustRoots = try .bundle(file: cacert)
            } catch {
                throw ValidationError("--cacert \(cacert): \(error)")
            }
        }
        if insecure { configuration.tls.verification = .none }
        return configuration
    }

    func run() async throws {
        let configuration = try clientConfiguration()
        let lines = Self.standardInputLines()
        if reconnect {
            try await runReconnecting(configuration, lines: lines)
        } else {
            try await runOnce(configuration, lines: lines)
        }
    }

    func runOnce(_ configuration: WebSocketClientConfiguration, lines: AsyncStream<String>) async throws {
        let connection: WebSocketClientConnection
        do {
            connection = try await WebSocketClient.open(url, configuration: configuration)
        } catch {
            Self.log("epsilon: \(error)")
            throw ExitCode(7)
        }
        if verbose { Self.log("open" + (connection.subprotocol.map { ", subprotocol \($0)" } ?? "") + (connection.isCompressed ? ", compressed" : "")) }
        let sender = Task {
            for await line in lines {
                do {
                    try await connection.send(.text(line))
                } catch {
                    return
                }
            }
            try? await connection.close()
        }
        defer { sender.cancel() }
        do {
            while let message = try await connection.receive() { Self.write(message) }
            if verbose { Self.log("closed: \(connection.serverClose.map { "\($0.code.map { "\($0)" } ?? "no code") \($0.reason)" } ?? "no close from the server")") }
        } catch {
            Self.log("epsilon: \(error)")
            throw ExitCode(1)
        }
    }

    func runReconnecting(_ configuration: WebSocketClientConfiguration, lines: AsyncStream<String>) async throws {
        let socket = ReconnectingWebSocket(url: url, configuration: configuration)
        socket.start()
        let verbose = self.verbose
        let watcher = Task {
            for await state in socket.states {
                if verbose {
                    var line = "state: \(state)"
                    if case .waiting = state, let error = socket.lastError { line += " after: \(error)" }
                    Self.log(line)
                }
                if case .stopped(let error?) = state { Self.log("epsilon: stopped: \(error)") }
            }
        }
        let sender = Task {
            for await line in lines {
                do {
                    try await socket.send(.text(line))
                } catch {
                    Self.log("epsilon: \(error)")
                }
            }
            // End of input: let what was typed go out first (at most 10 s), then close.
            for _ in 0..<200 where !(socket.isConnected && socket.queuedCount == 0) {
                try? await Task.sleep(for: .milliseconds(50))
            }
            await socket.close()
        }
        for await message in socket.messages { Self.write(message) }
        sender.cancel()
        await watcher.value
    }

    static func write(_ message: WebSocketClientMessage) {
        switch message {
        case .text(let text):
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        case .binary(let bytes):
            FileHandle.standardOutput.write(Data(bytes + [0x0A]))
        }
    }

    static func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Standard input's lines, read on a thread of their own (a blocking read must not hold a
    /// task thread); at most 1024 lines wait unread.
    static func standardInputLines() -> AsyncStream<String> {
        let (stream, input) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(1024))
        let thread = Thread {
            while let line = readLine(strippingNewline: true) { input.yield(line) }
            input.finish()
        }
        thread.start()
        return stream
    }
}
