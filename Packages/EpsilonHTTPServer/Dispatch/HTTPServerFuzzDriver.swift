/// One server connection in memory, for the fuzzer (SPI, not API): the session chosen as for
/// a real connection (``HTTPServerSessions``), the router's dispatcher and its middleware,
/// bytes in, bytes out, time as a value. Async handlers' returns to the loop wait for
/// ``runLoopTasks()``.
@_spi(EpsilonFuzz)
public final class HTTPServerFuzzDriver {
    private let io: HTTPServerMemoryIO
    private let context: HTTPServerLoopContext

    /// A connection to a server serving `router` with `configuration` (cleartext).
    public init(router: HTTPRouter, configuration: HTTPServerConfiguration) {
        io = HTTPServerMemoryIO()
        context = HTTPServerLoopContext(configuration: configuration, dispatcher: HTTPRouterDispatcher(router: router))
        io.open(HTTPServerSessions.makeInitial(io: io, context: context))
    }

    deinit {
        io.tearDown()
    }

    /// Bytes from the client.
    public func receive(_ bytes: UnsafeRawBufferPointer) {
        io.receive(Array(bytes))
    }

    /// The client finished sending.
    public func receiveEndOfStream() { io.receiveEndOfStream() }

    /// Moves the clock on, firing the session's timer when due.
    public func advanceTime(byNanoseconds delta: UInt64) { io.advance(to: io.now &+ delta) }

    /// A graceful shutdown asks the connection to finish.
    public func drain() { io.drain() }

    /// Runs what async handlers queued for the loop.
    public func runLoopTasks() { io.runTasks() }

    /// The bytes written so far (taken).
    public func takeOutput() -> [UInt8] { io.takeOutput() }

    /// Whether the connection was closed.
    public var isClosed: Bool { io.isClosed }
}
