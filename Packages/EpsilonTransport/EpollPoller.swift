#if os(Linux)
import Glibc
import CEpsilonTransportShims

/// The epoll backend, level- or edge-triggered.
final class EpollPoller: Poller {
    let epfd: Int32
    let isEdgeTriggered: Bool
    private let capacity = 1024
    private let buffer: UnsafeMutableRawPointer
    private let stride: Int

    var backend: PollerBackend { isEdgeTriggered ? .epollEdgeTriggered : .epollLevelTriggered }

    init(edgeTriggered: Bool) throws(TransportError) {
        let fd = epsilon_epoll_create()
        guard fd >= 0 else { throw .backendUnavailable("epoll_create1: errno \(epsilon_errno())") }
        epfd = fd
        isEdgeTriggered = edgeTriggered
        stride = epsilon_epoll_event_size()
        buffer = UnsafeMutableRawPointer.allocate(byteCount: stride * capacity, alignment: 8)
    }

    deinit { buffer.deallocate() }

    private func flags(_ interest: Interest) -> UInt32 {
        let readFlags = UInt32(EPOLLIN.rawValue) | UInt32(EPOLLRDHUP.rawValue)
        if isEdgeTriggered {
            // Edge-triggered registrations ask for both directions once and are never modified.
            return readFlags | UInt32(EPOLLOUT.rawValue) | UInt32(EPOLLET.rawValue)
        }
        // Level-triggered: EPOLLRDHUP only with read interest, or a peer's FIN would be
        // reported again and again while reading is paused.
        var flags: UInt32 = 0
        if interest.contains(.read) { flags |= readFlags }
        if interest.contains(.write) { flags |= UInt32(EPOLLOUT.rawValue) }
        return flags
    }

    func register(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError) {
        guard epsilon_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, flags(interest), token) == 0 else {
            throw .fromErrno("epoll_ctl(ADD)")
        }
    }

    func reregister(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError) {
        if isEdgeTriggered { return }
        guard epsilon_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, flags(interest), token) == 0 else {
            throw .fromErrno("epoll_ctl(MOD)")
        }
    }

    func deregister(_ fd: Int32, token: UInt64) {
        _ = epsilon_epoll_ctl(epfd, EPOLL_CTL_DEL, fd, 0, token)
    }

    func wait(timeoutMilliseconds: Int32, into events: inout [PollerEvent]) throws(TransportError) {
        let typed = buffer.assumingMemoryBound(to: epoll_event.self)
        let count = epsilon_epoll_wait(epfd, typed, Int32(capacity), timeoutMilliseconds)
        if count < 0 {
            if epsilon_errno() == EINTR { return }
            throw .fromErrno("epoll_wait")
        }
        for index in 0..<Int(count) {
            let event = (buffer + index * stride).assumingMemoryBound(to: epoll_event.self)
            let bits = epsilon_epoll_event_flags(event)
            events.append(PollerEvent(
                token: epsilon_epoll_event_token(event),
                // A peer's FIN (EPOLLRDHUP) is read as EOF, so it counts as readable.
                readable: bits & (UInt32(EPOLLIN.rawValue) | UInt32(EPOLLRDHUP.rawValue)) != 0,
                writable: bits & UInt32(EPOLLOUT.rawValue) != 0,
                hangup: bits & UInt32(EPOLLHUP.rawValue) != 0,
                error: bits & UInt32(EPOLLERR.rawValue) != 0
            ))
        }
    }

    func close() { _ = Glibc.close(epfd) }
}
#endif
