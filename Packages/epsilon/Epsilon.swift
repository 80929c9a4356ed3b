import ArgumentParser
import EpsilonTooling
import Foundation

@main
struct EpsilonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epsilon",
        abstract: "Epsilon's command-line tool.",
        subcommands: [Inspect.self]
    )
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decodes captured bytes and prints what they hold.",
        subcommands: [InspectHTTP1.self]
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
