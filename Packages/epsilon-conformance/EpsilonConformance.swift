import ArgumentParser
import EpsilonTooling
import Foundation

@main
struct EpsilonConformanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epsilon-conformance",
        abstract: "Runs protocol test-vector suites against Epsilon's machines.",
        subcommands: [HTTP1Suite.self, HPACKSuite.self, HTTP2FramesSuite.self, WebSocketSuite.self,
                      AutobahnClientSuite.self]
    )
}

/// Prints the closing line every suite ends with and fails when a case failed.
func finish(passed: Int, failed: Int) throws {
    print("\(passed) passed, \(failed) failed")
    if failed > 0 { throw ExitCode.failure }
}

struct HTTP1Suite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http1",
        abstract: "Runs llhttp-style Markdown spec files (```http input, ```log trace) found under a folder."
    )

    @Argument(help: "A folder searched recursively for .md spec files.")
    var folder: String

    @Option(help: "Cases that differ from llhttp on purpose: `file | case | reason` lines.")
    var expectations: String = "Conformance/http1-llhttp-differences.txt"

    func run() throws {
        let known = FileManager.default.fileExists(atPath: expectations)
            ? try HTTP1Conformance.loadKnownDifferences(path: expectations) : []
        let summary = try HTTP1Conformance.run(folder: folder, knownDifferences: known) { print($0) }
        for name in summary.unexpectedlyPassing {
            print("NOTE listed as a known difference but passes now: \(name)")
        }
        if summary.knownDifferences > 0 {
            print("\(summary.knownDifferences) known differences from llhttp, each with its reason in \(expectations)")
        }
        try finish(passed: summary.passed, failed: summary.failed)
    }
}

struct HPACKSuite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hpack",
        abstract: "Decodes every story of every encoder folder (http2jp/hpack-test-case layout) and compares each header list."
    )

    @Argument(help: "A folder searched recursively for story_*.json files with wire blocks.")
    var folder: String

    func run() throws {
        let result = try HPACKConformance.run(folder: folder) { print($0) }
        try finish(passed: result.passed, failed: result.failed)
    }
}

struct HTTP2FramesSuite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http2-frames",
        abstract: "Decodes and re-encodes every frame case (http2jp/http2-frame-test-case layout) under a folder."
    )

    @Argument(help: "A folder searched recursively for *.json frame cases.")
    var folder: String

    func run() throws {
        let result = try HTTP2FrameConformance.run(folder: folder) { print($0) }
        try finish(passed: result.passed, failed: result.failed)
    }
}

struct WebSocketSuite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "websocket",
        abstract: "Runs the RFC 6455 and RFC 7692 examples (rfc-examples.json format) found under a folder."
    )

    @Argument(help: "A folder searched for JSON files of WebSocket examples.")
    var folder: String

    func run() throws {
        // The runner logs its own closing `N passed, M failed` line.
        let result = try WebSocketConformance.run(folder: folder) { print($0) }
        if result.failed > 0 { throw ExitCode.failure }
    }
}
