#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The loop's clock: ``MonotonicClock/now()``.
@inline(__always)
func monotonicNanoseconds() -> UInt64 { MonotonicClock.now() }

/// Converts a non-negative `Duration` to whole nanoseconds, saturating.
func nanoseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    if seconds < 0 { return 0 }
    let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return UInt64.max / 2 }
    return whole &+ UInt64(attoseconds / 1_000_000_000)
}

/// A binary min-heap of deadlines: schedule and pop are O(log n), cancel is O(1)
/// (the entry is dropped lazily when it reaches the top, and the heap is rebuilt when
/// cancelled entries outnumber live ones, so memory stays proportional to live timers).
struct TimerHeap {
    private struct Entry {
        var deadline: UInt64
        var id: UInt64
    }

    private var entries: [Entry] = []
    private var actions: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 1

    /// Live (not cancelled, not fired) timers.
    var count: Int { actions.count }

    /// Adds a timer and returns its id.
    mutating func schedule(at deadline: UInt64, _ action: @escaping () -> Void) -> UInt64 {
        let id = nextID
        nextID &+= 1
        actions[id] = action
        entries.append(Entry(deadline: deadline, id: id))
        siftUp(entries.count - 1)
        return id
    }

    /// Cancels a timer; returns false when it already fired or was cancelled.
    @discardableResult
    mutating func cancel(_ id: UInt64) -> Bool {
        guard actions.removeValue(forKey: id) != nil else { return false }
        if entries.count > 64 && entries.count > 2 * actions.count { rebuild() }
        return true
    }

    /// The earliest live deadline, dropping cancelled entries from the top.
    mutating func nextDeadline() -> UInt64? {
        while let first = entries.first {
            if actions[first.id] != nil { return first.deadline }
            popTop()
        }
        return nil
    }

    /// Removes and returns the actions due at `now`, earliest first.
    mutating func popDue(now: UInt64) -> [() -> Void] {
        var due: [() -> Void] = []
        while let first = entries.first, first.deadline <= now {
            popTop()
            if let action = actions.removeValue(forKey: first.id) { due.append(action) }
        }
        return due
    }

    /// Drops every timer without running it.
    mutating func removeAll() {
        entries.removeAll()
        actions.removeAll()
    }

    private mutating func rebuild() {
        entries.removeAll { actions[$0.id] == nil }
        var index = entries.count / 2
        while index > 0 {
            index -= 1
            siftDown(index)
        }
    }

    private mutating func popTop() {
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            siftDown(0)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            if entries[parent].deadline <= entries[child].deadline { break }
            entries.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            if left >= entries.count { return }
            var smallest = left
            let right = left + 1
            if right < entries.count && entries[right].deadline < entries[left].deadline { smallest = right }
            if entries[parent].deadline <= entries[smallest].deadline { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
