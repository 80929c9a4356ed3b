/// Tools a test runs to completion (openssl, curl), awaited without blocking a thread.
public enum TestPeerTool {
    /// Runs `tool arguments…` to its end (at most `timeout`); throws, with its standard error,
    /// unless it exits 0.
    public static func run(_ tool: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws(TestPeerError) {
        let process = try TestPeerProcess(tool, arguments, keepsInputOpen: false)
        let status = try await process.waitForExit(timeout: timeout)
        guard status == 0 else {
            throw process.failure("\(arguments.first ?? "") exited with status \(status)")
        }
    }

    /// Whether `tool arguments…` exits 0 within `timeout`.
    public static func succeeds(_ tool: String, _ arguments: [String], timeout: Duration = .seconds(10)) async -> Bool {
        (try? await run(tool, arguments, timeout: timeout)) != nil
    }
}
