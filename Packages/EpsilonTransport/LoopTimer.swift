/// A timer scheduled on a loop with ``IOLoop/scheduleTimer(after:_:)``.
public struct LoopTimer: Sendable, Hashable {
    let id: UInt64
}
