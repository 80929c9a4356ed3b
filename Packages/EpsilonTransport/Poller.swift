#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims

/// What a registered file descriptor wants to hear about.
public struct Interest: OptionSet, Sendable, Hashable {
    /// The raw bits.
    public let rawValue: UInt8
    /// Creates an interest set from raw bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Readable (or, for a listener, a connection waiting to be accepted).
    public static let read = Interest(rawValue: 1)
    /// Writable (or, for a connecting socket, the connect finished).
    public static let write = Interest(rawValue: 2)
}

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

/// The readiness backends the transport knows, and runtime detection of the best one.
public enum PollerBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Linux epoll, level-triggered.
    case epollLevelTriggered = "epoll-lt"
    /// Linux epoll, edge-triggered (`EPOLLET`): fewer wake-ups, reads and writes drain to `EAGAIN`.
    case epollEdgeTriggered = "epoll-et"
    /// Linux io_uring (5.19+) in the completion model: connections submit receive, send,
    /// accept and connect operations and act on their completions; receives land in a ring of
    /// loop-owned buffers. Unavailable (and skipped by detection, with the reason) where the
    /// kernel or a seccomp policy forbids `io_uring_setup` or the provided-buffer ring.
    case ioUring = "io_uring"
    /// Linux io_uring (5.11+) as a readiness source only: multishot `IORING_OP_POLL_ADD`,
    /// edge-style, driving the same readiness code as epoll.
    case ioUringPoll = "io_uring-poll"
    /// BSD/Darwin kqueue (built only on those systems).
    case kqueue = "kqueue"
    /// Windows I/O completion ports, a proactor on the same completion path as ``ioUring``
    /// (built only on Windows, which this project cannot build yet; see `IOCPProactor.swift`).
    case iocp = "iocp"
    /// Portable `poll(2)`: O(n) per wait, available on every POSIX system.
    case poll = "poll"

    /// The name used in logs and in the `EPSILON_POLLER` environment variable.
    public var description: String { rawValue }

    /// Whether this backend can run on this machine right now (tries to create one).
    public var isAvailable: Bool {
        availabilityProblem == nil
    }

    /// Why this backend cannot run here, or nil when it can.
    public var availabilityProblem: String? {
        do {
            let poller = try makePoller()
            poller.close()
            return nil
        } catch {
            if case .backendUnavailable(let why) = error { return why }
            return error.description
        }
    }

    /// Every backend that runs on this machine, best first.
    public static var availableHere: [PollerBackend] {
        preferenceOrder.filter { $0.isAvailable }
    }

    /// The order detection tries: epoll first (the most exercised backend, and measured no
    /// slower than io_uring on the preview server here), then io_uring's completion and
    /// readiness modes; poll is the fallback that always works.
    static let preferenceOrder: [PollerBackend] = [.epollLevelTriggered, .epollEdgeTriggered, .kqueue, .iocp, .ioUring, .ioUringPoll, .poll]

    /// Picks the backend to use and says why: `EPSILON_POLLER` (a backend name) wins when it is
    /// available, otherwise the first available one in preference order.
    public static func detect() -> (backend: PollerBackend, reason: String) {
        detect(override: getenv("EPSILON_POLLER").map { String(cString: $0) })
    }

    /// Detection with an explicit override in place of the `EPSILON_POLLER` variable.
    public static func detect(override name: String?) -> (backend: PollerBackend, reason: String) {
        if let name {
            guard let chosen = PollerBackend(rawValue: name) else {
                let fallback = detectDefault()
                return (fallback.backend, "EPSILON_POLLER=\(name) names no backend; \(fallback.reason)")
            }
            if let problem = chosen.availabilityProblem {
                let fallback = detectDefault()
                return (fallback.backend, "EPSILON_POLLER=\(name) unavailable (\(problem)); \(fallback.reason)")
            }
            return (chosen, "EPSILON_POLLER=\(name)")
        }
        return detectDefault()
    }

    private static func detectDefault() -> (backend: PollerBackend, reason: String) {
        var skipped: [String] = []
        for candidate in preferenceOrder {
            if let problem = candidate.availabilityProblem {
                skipped.append("\(candidate): \(problem)")
            } else {
                let note = skipped.isEmpty ? "" : " (skipped \(skipped.joined(separator: "; ")))"
                return (candidate, "\(candidate) is the best available backend\(note)")
            }
        }
        return (.poll, "no backend reported available; poll(2) as last resort")
    }

    /// The best backend available here (see ``detect()``).
    public static var best: PollerBackend { detect().backend }

    func makePoller() throws(TransportError) -> any Poller {
        switch self {
        case .epollLevelTriggered:
            #if os(Linux)
            return try EpollPoller(edgeTriggered: false)
            #else
            throw .backendUnavailable("epoll exists only on Linux")
            #endif
        case .epollEdgeTriggered:
            #if os(Linux)
            return try EpollPoller(edgeTriggered: true)
            #else
            throw .backendUnavailable("epoll exists only on Linux")
            #endif
        case .ioUring:
            #if os(Linux)
            return try IOUringPoller(completions: true)
            #else
            throw .backendUnavailable("io_uring exists only on Linux")
            #endif
        case .ioUringPoll:
            #if os(Linux)
            return try IOUringPoller(completions: false)
            #else
            throw .backendUnavailable("io_uring exists only on Linux")
            #endif
        case .kqueue:
            #if canImport(Darwin) || os(FreeBSD) || EPSILON_KQUEUE_FACSIMILE
            return try KqueuePoller()
            #else
            throw .backendUnavailable("kqueue exists only on Darwin and the BSDs")
            #endif
        case .iocp:
            #if os(Windows)
            return try IOCPProactor()
            #else
            throw .backendUnavailable("IOCP exists only on Windows")
            #endif
        case .poll:
            return PollPoller()
        }
    }
}
