import Synchronization

/// A gate an async handler waits at until the test opens it.
final class BodyGate: Sendable {
    private let isOpen = Atomic<Bool>(false)

    func open() { isOpen.store(true, ordering: .releasing) }

    func waitUntilOpen() async {
        while !isOpen.load(ordering: .acquiring) {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// A counter a handler sets and a test reads.
final class Progress: Sendable {
    private let storage = Atomic<Int>(0)
    var value: Int { storage.load(ordering: .acquiring) }
    func set(_ value: Int) { storage.store(value, ordering: .releasing) }
    func increment() { storage.add(1, ordering: .sequentiallyConsistent) }
}
