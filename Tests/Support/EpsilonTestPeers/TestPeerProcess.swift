import Foundation
import Synchronization

/// A process started for a test (a server such as a Python script, nginx or h2o, or a tool),
/// waited for without blocking a thread of the cooperative pool.
///
/// Starting returns at once; then wait for it with ``waitForOutputLine(containing:timeout:)``,
/// ``waitUntilAccepts(port:timeout:)`` or ``waitUntil(_:timeout:probe:)``. Every wait sleeps
/// with `Task.sleep`, has a deadline, fails early when the process exits, and throws a
/// ``TestPeerError`` holding the process's standard error and its ``logs``. The process is ended
/// by ``stop()`` or, when the value goes away, by a task of its own (with ``Ending``).
public final class TestPeerProcess: Sendable {
    /// How the process is ended.
    public enum Ending: Sendable {
        /// SIGKILL at once: for a peer that holds no state worth a clean exit (a signal it might
        /// handle or ignore would leave the test waiting).
        case kill
        /// SIGTERM, then after `grace` SIGKILL to the process and its children (nginx's master
        /// stops its workers on SIGTERM; a killed master would leave them running).
        case terminate(grace: Duration)
    }

    /// The name the failure messages use (the executable's).
    public let name: String
    private let child: Child

    /// Starts `executable arguments…` (looked up in `PATH` unless it is a path) and returns
    /// without waiting for it.
    ///
    /// - Parameters:
    ///   - environment: variables added to the test process's own.
    ///   - readsOutput: keep its standard output for ``waitForOutputLine(containing:timeout:)``
    ///     (read on a thread of its own, drained until the end so the peer never blocks on it);
    ///     otherwise it goes to /dev/null, never to the test's own output (`swift test` waits
    ///     for every holder of its pipe to exit).
    ///   - keepsInputOpen: give it a standard input held open while this value lives (a peer
    ///     that watches its input exits with the test process); otherwise /dev/null.
    ///   - ending: how ``stop()`` ends it.
    ///   - logs: files the peer writes (nginx's error log) that failure messages include.
    ///   - removing: files and folders removed once the process has exited.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                readsOutput: Bool = false, keepsInputOpen: Bool = true, ending: Ending = .kill,
                logs: [String] = [], removing: [String] = []) throws(TestPeerError) {
        name = executable
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString).err").path
        child = Child(ending: ending, errorFile: errorFile, logs: logs, removing: removing + [errorFile])
        let process = child.process
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardInput = keepsInputOpen ? child.input : FileHandle.nullDevice
        let output = Pipe()
        process.standardOutput = readsOutput ? output : FileHandle.nullDevice
        guard FileManager.default.createFile(atPath: errorFile, contents: nil),
              let errorHandle = FileHandle(forWritingAtPath: errorFile) else {
            throw TestPeerError("\(executable): cannot create \(errorFile)")
        }
        defer { try? errorHandle.close() }
        process.standardError = errorHandle
        let child = child
        process.terminationHandler = { child.exit.store($0.terminationStatus, ordering: .releasing) }
        do {
            try process.run()
        } catch {
            throw TestPeerError("\(executable) did not start: \(error)")
        }
        if readsOutput { child.readOutput(output.fileHandleForReading) }
    }

    deinit {
        // The signal goes now; the wait for the exit and the clean-up on a task of their own.
        child.signal()
        let child = child
        Task.detached { await child.stop() }
    }

    /// The process's id.
    public var processIdentifier: Int32 { child.process.processIdentifier }

    /// The exit status once it has exited, else nil.
    public var exitStatus: Int32? {
        let status = child.exit.load(ordering: .acquiring)
        return status == Child.running ? nil : status
    }

    /// Waits until a line of its standard output contains `marker` and returns the rest of that
    /// line (after the marker, whitespace trimmed). Needs `readsOutput`.
    public func waitForOutputLine(containing marker: String, timeout: Duration = .seconds(20)) async throws(TestPeerError) -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (text, ended) = child.output.withLock { ($0.text, $0.ended) }
            if let line = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().first(where: { $0.contains(marker) }),
               let range = line.range(of: marker) {
                return line[range.upperBound...].trimmingCharacters(in: .whitespaces)
            }
            if ended || exitStatus != nil { throw failure("ended before printing \"\(marker)\"") }
            guard ContinuousClock.now < deadline else { throw failure("printed no \"\(marker)\" line within \(timeout)") }
            try await pause(.milliseconds(10))
        }
    }

    /// Waits until `probe` holds (tried every 50 ms); `what` names the state in the failure.
    public func waitUntil(_ what: String, timeout: Duration = .seconds(10),
                          probe: @Sendable () async -> Bool) async throws(TestPeerError) {
        let deadline = ContinuousClock.now + timeout
        while true {
            if await probe() { return }
            if exitStatus != nil { throw failure("exited before it was \(what)") }
            guard ContinuousClock.now < deadline else { throw failure("was not \(what) within \(timeout)") }
            try await pause(.milliseconds(50))
        }
    }

    /// Waits until something accepts TCP connections on 127.0.0.1:`port`.
    public func waitUntilAccepts(port: UInt16, timeout: Duration = .seconds(10)) async throws(TestPeerError) {
        try await waitUntil("accepting connections on 127.0.0.1:\(port)", timeout: timeout) { LoopbackPort.accepts(port) }
    }

    /// Waits for the process to exit (at most `timeout`) and returns its status.
    public func waitForExit(timeout: Duration) async throws(TestPeerError) -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = exitStatus { return status }
            guard ContinuousClock.now < deadline else { throw failure("did not exit within \(timeout)") }
            try await pause(.milliseconds(10))
        }
    }

    /// Sends `signal` (SIGSTOP freezes it: its connections stay open, nothing is answered).
    public func signal(_ signal: Int32) {
        if exitStatus == nil { kill(processIdentifier, signal) }
    }

    /// Ends the process as its ``Ending`` says, waits for it (bounded) and removes its files.
    public func stop() async { await child.stop() }

    /// An error saying `reason`, with the process's standard error and logs.
    public func failure(_ reason: String) -> TestPeerError {
        var message = "\(name) \(reason)"
        for (title, path) in [("standard error", child.errorFile)] + child.logs.map({ ($0, $0) }) {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            message += "\n--- \(title) ---\n" + (text.isEmpty ? "(empty)" : String(text.suffix(4096)))
        }
        return TestPeerError(message)
    }

    private func pause(_ duration: Duration) async throws(TestPeerError) {
        do { try await Task.sleep(for: duration) } catch { throw failure("wait was cancelled") }
    }
}

/// What the launcher, its output thread and its stop task share.
private final class Child: @unchecked Sendable {
    // @unchecked: `process` is configured and started in TestPeerProcess.init before this value
    // is shared; afterwards only its id is read. `input` is immutable. Everything else is
    // atomic or behind a Mutex.
    static let running = Int32.min
    let process = Process()
    let input = Pipe()
    let ending: TestPeerProcess.Ending
    let errorFile: String
    let logs: [String]
    let removing: [String]
    /// The exit status, or ``running``.
    let exit = Atomic<Int32>(Child.running)
    let signalled = Atomic(false)
    let stopping = Atomic(false)
    /// Standard output so far (the first 64 KiB) and whether it ended.
    let output = Mutex<(text: String, ended: Bool)>(("", false))

    init(ending: TestPeerProcess.Ending, errorFile: String, logs: [String], removing: [String]) {
        self.ending = ending
        self.errorFile = errorFile
        self.logs = logs
        self.removing = removing
    }

    var hasExited: Bool { exit.load(ordering: .acquiring) != Child.running }

    /// Reads `handle` to its end on a thread of its own, keeping the first 64 KiB.
    func readOutput(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                output.withLock { if $0.text.utf8.count < 64 * 1024 { $0.text += String(decoding: data, as: UTF8.self) } }
            }
            output.withLock { $0.ended = true }
        }
    }

    /// Sends the first signal of ``ending`` (once).
    func signal() {
        guard !signalled.exchange(true, ordering: .acquiringAndReleasing), !hasExited else { return }
        let pid = process.processIdentifier
        switch ending {
        case .kill:
            kill(pid, SIGKILL)
        case .terminate:
            kill(pid, SIGTERM)
            kill(pid, SIGCONT)   // a stopped process keeps SIGTERM pending
        }
    }

    /// Ends the process: the signal, then (after the grace period) SIGKILL; waits for the exit
    /// (bounded) and removes the files.
    func stop() async {
        signal()
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if case .terminate(let grace) = ending, !(await exited(within: grace)) {
            let pid = process.processIdentifier
            Self.children(of: pid).forEach { kill($0, SIGKILL) }
            kill(pid, SIGKILL)
        }
        _ = await exited(within: .seconds(10))
        for path in removing { try? FileManager.default.removeItem(atPath: path) }
    }

    private func exited(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !hasExited && ContinuousClock.now < deadline {
            // Not cancellable: a stop that gave up early would leave the process running.
            try? await Task.sleep(for: .milliseconds(10))
        }
        return hasExited
    }

    /// The processes whose parent is `pid` (from /proc).
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let child = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid ? child : nil
        }
    }
}
