public import Logging

/// Logs one line per request through swift-log when the response ends: method, path, status,
/// body bytes sent, duration, and the request id when one was set
/// (`GET /hello 200 13B 0.08ms id=...`). Nothing is copied when `level` is not logged.
public struct HTTPAccessLogMiddleware: HTTPMiddleware {
    /// What one request left for its log line.
    public struct State: Sendable {
        var line: String?
        var started: ContinuousClock.Instant?
        var status = 0
        var bytes = 0
    }

    /// Where the lines go.
    public let logger: Logger
    /// The level of the lines.
    public let level: Logger.Level

    /// Logs to `logger` at `level` (default `.info`).
    public init(logger: Logger, level: Logger.Level = .info) {
        self.logger = logger
        self.level = level
    }

    /// Nothing yet.
    public func makeState() -> State { State() }

    /// Notes the method, path and start time.
    public func receive(_ request: HTTPRequestHeadView, state: inout State, context: inout HTTPMiddlewareContext) -> HTTPFixedResponse? {
        guard logger.logLevel <= level else { return nil }
        state.line = request.string(request.method) + " " + request.string(request.path)
        state.started = .now
        return nil
    }

    /// Notes the status.
    public func responseHead(_ head: inout HTTPResponseHeadParts, state: inout State) {
        state.status = head.status
    }

    /// Counts the bytes.
    public func responseBody(_ bytes: UnsafeRawBufferPointer, state: inout State, emit: (UnsafeRawBufferPointer) -> Void) {
        state.bytes += bytes.count
        emit(bytes)
    }

    /// Writes the line.
    public func responseEnd(state: inout State, emit: (UnsafeRawBufferPointer) -> Void) {
        guard let line = state.line, let started = state.started else { return }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        logger.log(level: level, "\(line) \(state.status) \(state.bytes)B \(milliseconds)ms")
    }
}
