/// A value that may only be touched on one event loop's thread, carried across threads.
///
/// This is the one place where the transport escapes strict concurrency checking for
/// loop-confined objects (connections, listeners, handlers). It is `@unchecked Sendable`
/// because every read of ``value`` checks, with a precondition, that the caller runs on
/// `loop`'s thread, so the wrapped value is never touched by two threads at once.
public struct LoopBound<Value>: @unchecked Sendable {
    /// The loop whose thread owns the value.
    public let loop: IOLoop
    private let storage: Value

    /// Wraps `value`; must be called on `loop`'s thread.
    public init(_ value: Value, loop: IOLoop) {
        loop.preconditionInLoop()
        self.loop = loop
        self.storage = value
    }

    /// The wrapped value; traps if read from any thread but the loop's.
    public var value: Value {
        loop.preconditionInLoop()
        return storage
    }
}
