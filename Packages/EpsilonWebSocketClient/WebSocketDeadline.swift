import EpsilonTransport
import Synchronization

/// Closes a connection when a time limit passes, so that whatever waits on it wakes up;
/// ``fired`` then tells a timeout from another failure.
final class WebSocketDeadline: Sendable {
    private let state = Mutex<(fired: Bool, task: Task<Void, Never>?)>((false, nil))

    init(after duration: Duration, closing transport: AsyncConnection) {
        let task = Task { [weak self] in
            do {
                try await Task.sleep(for: duration)
            } catch {
                return
            }
            guard let self else { return }
            state.withLock { $0.fired = true }
            await transport.close()
        }
        state.withLock { $0.task = task }
    }

    /// Whether the limit passed (and the connection was closed).
    var fired: Bool { state.withLock { $0.fired } }

    /// Stops the timer.
    func cancel() {
        state.withLock { $0.task }?.cancel()
    }
}
