#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims

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
            // Left out when type-checking the IOCP backend: there the send seam is Windows'.
            #if os(Linux) && !EPSILON_IOCP_FACSIMILE
            return try IOUringPoller(completions: true)
            #else
            throw .backendUnavailable("io_uring exists only on Linux")
            #endif
        case .ioUringPoll:
            #if os(Linux) && !EPSILON_IOCP_FACSIMILE
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
            #if os(Windows) || EPSILON_IOCP_FACSIMILE
            return try IOCPProactor()
            #else
            throw .backendUnavailable("IOCP exists only on Windows")
            #endif
        case .poll:
            return PollPoller()
        }
    }
}
