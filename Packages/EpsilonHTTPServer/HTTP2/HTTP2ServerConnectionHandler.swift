import EpsilonHTTP2
import EpsilonTransport

/// The transport's side of an HTTP/2 connection: hands reads to an ``HTTP2ServerSession``,
/// runs its timers (SETTINGS_TIMEOUT, the idle timeout), and turns a graceful drain into
/// GOAWAY. Installed by protocol selection once a connection is known to speak HTTP/2.
final class HTTP2ServerConnectionHandler<Delegate: HTTP2StreamDelegate>: ConnectionHandler {
    typealias Session = HTTP2ServerSession<Delegate, Connection>

    let session: Session
    private let idleTimeout: Duration
    private var timer: LoopTimer?

    /// Wraps a session made for `connection` (its delegate already set).
    init(session: Session, idleTimeout: Duration) {
        self.session = session
        self.idleTimeout = idleTimeout
    }

    /// Makes the session over `connection` with `machine`, asks `makeDelegate` for its
    /// dispatcher and installs the handler on the connection. `received` (bytes read before
    /// the hand-off: a sniffed preface, what followed an `Upgrade` request) is fed first.
    @discardableResult
    static func install(
        on connection: Connection, machine: HTTP2Connection, idleTimeout: Duration,
        received: UnsafeRawBufferPointer, makeDelegate: (Session) -> Delegate,
        start: ((Session) -> Void)? = nil
    ) -> HTTP2ServerConnectionHandler {
        let session = Session(machine: machine, io: connection)
        session.delegate = makeDelegate(session)
        let handler = HTTP2ServerConnectionHandler(session: session, idleTimeout: idleTimeout)
        connection.handler = handler
        handler.connectionDidBecomeActive(connection)
        // The opening SETTINGS (and the answer to an upgraded request) go out at once.
        start?(session)
        session.flushAfterSend()
        if !received.isEmpty { session.receive(received) }
        return handler
    }

    func connectionDidBecomeActive(_ connection: Connection) {
        session.handleTimeouts()  // starts the SETTINGS timer from now
        arm(after: idleTimeout, on: connection)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        session.receive(bytes)
    }

    func connectionWritabilityDidChange(_ connection: Connection) {
        session.writabilityChanged()
    }

    func connectionShouldDrain(_ connection: Connection) {
        session.beginGracefulShutdown()
    }

    func connectionDidReadEOF(_ connection: Connection) {
        session.peerFinishedSending()
    }

    func connectionDidClose(_ connection: Connection, error: TransportError?) {
        if let timer { connection.loop.cancelTimer(timer) }
        timer = nil
        session.connectionClosed()
    }

    /// One timer per connection, re-armed when it fires: it checks the SETTINGS deadline and
    /// closes a connection that had no stream for `idleTimeout` (GOAWAY NO_ERROR first).
    private func arm(after delay: Duration, on connection: Connection) {
        timer = connection.loop.scheduleTimer(after: delay) { [weak self, weak connection] in
            guard let self, let connection, !connection.isClosed else { return }
            self.timer = nil
            self.fire(on: connection)
        }
    }

    private func fire(on connection: Connection) {
        let now = MonotonicClock.now()
        if let deadline = session.nextDeadline, now >= deadline { session.handleTimeouts() }
        let idleNanoseconds = UInt64(idleTimeout.components.seconds) &* 1_000_000_000
            &+ UInt64(idleTimeout.components.attoseconds / 1_000_000_000)
        if session.activeStreamCount == 0, now &- session.idleSince >= idleNanoseconds { session.closeIdle() }
        guard !session.isClosed else { return }
        var next = session.activeStreamCount == 0
            ? Duration.nanoseconds(Int64(clamping: idleNanoseconds &- min(idleNanoseconds, now &- session.idleSince)))
            : idleTimeout
        if let deadline = session.nextDeadline, deadline > now {
            next = min(next, .nanoseconds(Int64(clamping: deadline &- now)))
        }
        arm(after: max(next, .milliseconds(1)), on: connection)
    }
}
