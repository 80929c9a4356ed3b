import ArgumentParser
import EpsilonHTTPServerPreview
import EpsilonTLS
import EpsilonTooling
import Foundation

@main
struct EpsilonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epsilon",
        abstract: "Epsilon's command-line tool.",
        subcommands: [Serve.self, Inspect.self, ClientGet.self, ClientPost.self]
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serves HTTP/1.1 on the Epsilon transport until interrupted."
    )

    @Flag(help: "Answer every request with a plain-text hello (the preview server; the only mode so far).")
    var plainHello = false

    @Option(help: "Address to listen on (127.0.0.1, ::1, ...).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port: UInt16 = 8080

    @Option(help: "Event loops (default: one per core).")
    var loops: Int?

    @Option(help: "The response body.")
    var body = "Hello, World!"

    @Option(help: "Serve HTTPS with this certificate chain (PEM, leaf first); needs --key.")
    var cert: String?

    @Option(help: "The private key (PEM or DER) of --cert.")
    var key: String?

    func validate() throws {
        guard plainHello else { throw ValidationError("only --plain-hello is available yet") }
        guard (cert == nil) == (key == nil) else { throw ValidationError("--cert and --key go together") }
    }

    func run() async throws {
        var tls: TLSContext?
        if let cert, let key {
            do {
                tls = try HelloServer.tlsContext(certificateFile: cert, privateKeyFile: key)
            } catch {
                throw ValidationError("cannot use --cert \(cert) --key \(key): \(error)")
            }
        }
        try await HelloServer.run(host: host, port: port, loops: loops ?? ProcessInfo.processInfo.activeProcessorCount,
                                  body: body, tls: tls) { line in
            // Unbuffered, so the lines show at once, also through a pipe.
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decodes captured bytes and prints what they hold.",
        subcommands: [InspectHTTP1.self, InspectHPACK.self, InspectHTTP2.self, InspectWebSocket.self]
    )
}

/// Reads a file, or standard input for `-`.
func readInput(_ path: String) throws -> [UInt8] {
    if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read \(path)")
    }
    return Array(data)
}

struct InspectHTTP1: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http1",
        abstract: "Prints the HTTP/1.1 messages in a captured byte stream, or the error and its offset."
    )

    @Flag(help: "Read responses instead of requests.")
    var response = false

    @Argument(help: "A file of captured bytes, or - for standard input.")
    var file: String = "-"

    func run() throws {
        let report = HTTP1Inspector.describe(try readInput(file), role: response ? .response : .request)
        print(report)
        if report.contains("error: ") { throw ExitCode.failure }
    }
}

struct InspectHPACK: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hpack",
        abstract: "Prints the header fields of HPACK header blocks given as hex or as a file (hex lines or raw bytes)."
    )

    @Option(help: "The dynamic table size the blocks were encoded for.")
    var tableSize: Int = 4096

    @Argument(help: "Hex text, or a file of hex lines (one block per line, one shared table) or raw bytes.")
    var input: String

    func run() throws {
        do {
            print(try HPACKInspector.describe(argument: input, maxTableSize: tableSize))
        } catch let error as HPACKInspector.InspectionError {
            print(error.output)
            throw ExitCode.failure
        }
    }
}

struct InspectHTTP2: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http2",
        abstract: "Prints the HTTP/2 frames in a captured byte stream (one direction), header blocks decoded."
    )

    @Argument(help: "A file of captured bytes, or - for standard input.")
    var file: String = "-"

    func run() throws {
        do {
            print(try HTTP2Inspector.describe(try readInput(file)))
        } catch let error as HTTP2Inspector.InspectionError {
            print(error.output)
            throw ExitCode.failure
        }
    }
}

struct InspectWebSocket: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "websocket",
        abstract: "Prints the WebSocket frames and messages in a captured byte stream."
    )

    @Flag(help: "The bytes were sent by a client (masked frames); default: by a server.")
    var client = false

    @Argument(help: "A file of captured bytes.")
    var file: String

    func run() throws {
        print(try WebSocketInspector.describe(contentsOf: file, sentByClient: client))
    }
}
