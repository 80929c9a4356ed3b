// A peer server for the rows (nginx, h2o) run under a shell that kills it when this program
// closes the shell's standard input, or exits: no server outlives the benchmark, even after a crash.
import Foundation

struct GuardedServer {
    let shell: Process
    let input: Pipe
    /// The server's temporary folder, removed by ``stop()``.
    let directory: String

    /// Starts `command` (a shell command line in which `"$1"` is `directory`) and waits, 5 s at
    /// most, until `curl -s <curlOptions> probeURL` succeeds.
    static func start(command: String, directory: String, probeURL: String, curlOptions: [String] = []) throws -> GuardedServer {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        // Signals are ignored by the shell (and its cat): only the end of the input stops it.
        shell.arguments = ["-c", "trap '' TERM INT HUP; \(command) </dev/null >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill -KILL $pid; wait $pid",
                           "sh", directory]
        let input = Pipe()
        shell.standardInput = input
        shell.standardError = FileHandle.nullDevice  // no "Killed" from the shell
        try shell.run()
        for _ in 0..<100 {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            probe.arguments = ["-s"] + curlOptions + ["-o", "/dev/null", probeURL]
            try probe.run()
            probe.waitUntilExit()
            if probe.terminationStatus == 0 { break }
            usleep(50_000)
        }
        return GuardedServer(shell: shell, input: input, directory: directory)
    }

    /// Stops the server, waits for it, and removes its folder.
    func stop() {
        try? input.fileHandleForWriting.close()
        shell.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
