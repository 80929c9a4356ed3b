import ArgumentParser
import EpsilonTooling
import Foundation

@main
struct EpsilonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epsilon",
        abstract: "Epsilon's command-line tool.",
        subcommands: [Serve.self, Inspect.self, ClientGet.self, ClientPost.self,
                      WebSocketCommand.self]
    )
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
