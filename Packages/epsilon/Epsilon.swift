import ArgumentParser
import EpsilonTooling

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
        subcommands: []
    )
}
