#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims

/// One readiness report from a poller.
struct PollerEvent {
    /// The token given at registration (fd in the low 32 bits, generation in the high 32).
    var token: UInt64
    var readable: Bool
    var writable: Bool
    /// Both directions are gone (`EPOLLHUP`/`POLLHUP`); a peer's half-close is `readable`.
    var hangup: Bool
    /// The socket has a pending error (`EPOLLERR`/`POLLERR`).
    var error: Bool
}

/// The one small interface every OS readiness mechanism implements.
///
/// A poller is owned by one event loop and used only on its thread. Everything above it
/// (connections, listeners, timers, the loop itself) is shared code, so the Linux backends
/// exercise the same logic a kqueue or IOCP backend would drive.
protocol Poller: AnyObject {
    /// Which backend this is.
    var backend: PollerBackend { get }
    /// True when readiness is reported once per change (epoll `EPOLLET`, kqueue `EV_CLEAR`):
    /// the loop then registers read and write once and never modifies the registration.
    var isEdgeTriggered: Bool { get }
    func register(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError)
    func reregister(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError)
    func deregister(_ fd: Int32, token: UInt64)
    /// Waits up to `timeoutMilliseconds` (-1: forever) and appends ready events to `events`.
    func wait(timeoutMilliseconds: Int32, into events: inout [PollerEvent]) throws(TransportError)
    /// Releases the kernel object.
    func close()
    /// The completion-model half of this backend, or nil for a readiness-only backend. With one,
    /// stream connections and listeners submit operations instead of registering readiness.
    var proactor: (any Proactor)? { get }
}

extension Poller {
    var proactor: (any Proactor)? { nil }
}
