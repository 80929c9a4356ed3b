#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims

/// The portable `poll(2)` backend: a dense `pollfd` array with an fd → slot index.
///
/// Registration changes are O(1) (swap-remove); each wait is O(registered fds), which is the
/// price of portability. Level-triggered like epoll's default mode.
final class PollPoller: Poller {
    private var descriptors: [pollfd] = []
    private var tokens: [UInt64] = []
    private var slotByFD: [Int32: Int] = [:]

    var backend: PollerBackend { .poll }
    var isEdgeTriggered: Bool { false }

    private func bits(_ interest: Interest) -> Int16 {
        var bits: Int16 = 0
        if interest.contains(.read) { bits |= Int16(POLLIN) }
        if interest.contains(.write) { bits |= Int16(POLLOUT) }
        return bits
    }

    func register(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError) {
        if slotByFD[fd] != nil { throw .system(call: "poll register", errno: EEXIST) }
        slotByFD[fd] = descriptors.count
        descriptors.append(pollfd(fd: fd, events: bits(interest), revents: 0))
        tokens.append(token)
    }

    func reregister(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError) {
        guard let slot = slotByFD[fd] else { throw .system(call: "poll reregister", errno: ENOENT) }
        descriptors[slot].events = bits(interest)
        tokens[slot] = token
    }

    func deregister(_ fd: Int32, token: UInt64) {
        guard let slot = slotByFD.removeValue(forKey: fd) else { return }
        let last = descriptors.count - 1
        if slot != last {
            descriptors[slot] = descriptors[last]
            tokens[slot] = tokens[last]
            slotByFD[descriptors[slot].fd] = slot
        }
        descriptors.removeLast()
        tokens.removeLast()
    }

    func wait(timeoutMilliseconds: Int32, into events: inout [PollerEvent]) throws(TransportError) {
        let count = descriptors.withUnsafeMutableBufferPointer { buffer in
            #if canImport(Glibc)
            Glibc.poll(buffer.baseAddress, nfds_t(buffer.count), timeoutMilliseconds)
            #else
            Darwin.poll(buffer.baseAddress, nfds_t(buffer.count), timeoutMilliseconds)
            #endif
        }
        if count < 0 {
            if epsilon_errno() == EINTR { return }
            throw .fromErrno("poll")
        }
        if count == 0 { return }
        for slot in descriptors.indices where descriptors[slot].revents != 0 {
            let revents = Int32(descriptors[slot].revents)
            events.append(PollerEvent(
                token: tokens[slot],
                readable: revents & Int32(POLLIN) != 0,
                writable: revents & Int32(POLLOUT) != 0,
                hangup: revents & Int32(POLLHUP) != 0,
                error: revents & (Int32(POLLERR) | Int32(POLLNVAL)) != 0
            ))
            descriptors[slot].revents = 0
        }
    }

    func close() {}
}
