import Foundation

/// A server process on loopback started for a test: launched with its arguments, it must print a
/// line containing `listening on HOST:PORT` within 20 seconds; killed when the value goes away.
final class LoopbackPeer: @unchecked Sendable {
    // @unchecked: `process` is only started in init and terminated in deinit.
    let process = Process()
    /// The peer's standard input, held open for as long as this process lives.
    let input = Pipe()
    let port: UInt16
    let log: URL

    struct StartFailed: Error, CustomStringConvertible { let description: String }

    /// Starts `executable arguments…` and waits for its `listening on` line.
    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        let output = Pipe()
        log = FileManager.default.temporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.standardOutput = output
        process.standardInput = input
        process.standardError = try FileHandle(forWritingTo: log)
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        try process.run()
        let found = LineWaiter(handle: output.fileHandleForReading, marker: "listening on ")
        guard let line = found.wait(seconds: 20), let portText = line.split(separator: ":").last,
              let port = UInt16(portText.trimmingCharacters(in: .whitespaces)) else {
            kill(process.processIdentifier, SIGKILL)
            let errors = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw StartFailed(description: "\(executable) did not report its port: \(errors)")
        }
        self.port = port
    }

    deinit {
        // SIGKILL by pid: the peer holds no state worth a clean exit, and a signal it might
        // handle or ignore would leave the test waiting.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: log)
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
}

/// Reads lines from a pipe on a thread until one holds `marker`.
private final class LineWaiter: @unchecked Sendable {
    // @unchecked: `line` is written by the reader thread before `done.signal()` and read after `wait`.
    private let done = DispatchSemaphore(value: 0)
    private var line: String?

    init(handle: FileHandle, marker: String) {
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                pending.append(data)
                let text = String(decoding: pending, as: UTF8.self)
                if let found = text.split(separator: "\n").first(where: { $0.contains(marker) }) {
                    line = String(found[found.range(of: marker)!.upperBound...])
                    break
                }
            }
            done.signal()
            // Keep draining so the peer never blocks on a full pipe.
            while !handle.availableData.isEmpty {}
        }
    }

    func wait(seconds: Int) -> String? {
        done.wait(timeout: .now() + .seconds(seconds)) == .success ? line : nil
    }
}

/// The `Tests/Client` folder (scripts and configurations of the peers).
let clientTestsDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Client").path

/// The crafted-response server (Tests/Client/crafted_server.py), shared by the suites that use it.
/// It exits with the test process (it watches its stdin), since a static value is never deinitialized.
let craftedServer = Result {
    try LoopbackPeer("python3", [clientTestsDirectory + "/crafted_server.py", "--port", "0", "--exit-with-stdin"])
}
