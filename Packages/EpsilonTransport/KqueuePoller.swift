#if canImport(Darwin) || os(FreeBSD) || EPSILON_KQUEUE_FACSIMILE
// NOT BUILT OR RUN HERE: this file compiles only on Darwin/FreeBSD, which this project's
// Linux machines cannot build; `bash Tests/TypeCheck/run` type-checks it on Linux against a
// facsimile of <sys/event.h> (EPSILON_KQUEUE_FACSIMILE). It is kept as thin as the interface
// allows: everything else (loop, connections, timers) is shared with the Linux backends and
// tested there.
#if canImport(Darwin)
import Darwin
#else
import Glibc
#endif
#if EPSILON_KQUEUE_FACSIMILE
import CKqueueFacsimile
#endif

/// The kqueue backend: one `EVFILT_READ` and one `EVFILT_WRITE` filter per descriptor,
/// enabled and disabled to follow the interest set (level-triggered, like epoll's default).
final class KqueuePoller: Poller {
    let kq: Int32
    private var changes: [kevent] = []
    // `Array<kevent>`, not `[kevent]`: the function kevent(...) shadows the struct in that spelling.
    private var received = Array<kevent>(repeating: kevent(), count: 1024)

    var backend: PollerBackend { .kqueue }
    var isEdgeTriggered: Bool { false }

    init() throws(TransportError) {
        let fd = kqueue()
        guard fd >= 0 else { throw .backendUnavailable("kqueue: errno \(errno)") }
        kq = fd
    }

    private func apply(_ fd: Int32, token: UInt64, interest: Interest, adding: Bool) throws(TransportError) {
        let readFlags = UInt16(interest.contains(.read) ? EV_ADD | EV_ENABLE : (adding ? EV_ADD | EV_DISABLE : EV_DISABLE))
        let writeFlags = UInt16(interest.contains(.write) ? EV_ADD | EV_ENABLE : (adding ? EV_ADD | EV_DISABLE : EV_DISABLE))
        var pair = [
            kevent(ident: UInt(fd), filter: Int16(EVFILT_READ), flags: readFlags, fflags: 0, data: 0,
                   udata: UnsafeMutableRawPointer(bitPattern: UInt(token))),
            kevent(ident: UInt(fd), filter: Int16(EVFILT_WRITE), flags: writeFlags, fflags: 0, data: 0,
                   udata: UnsafeMutableRawPointer(bitPattern: UInt(token))),
        ]
        guard kevent(kq, &pair, 2, nil, 0, nil) == 0 else { throw .fromErrno("kevent") }
    }

    func register(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError) {
        try apply(fd, token: token, interest: interest, adding: true)
    }

    func reregister(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError) {
        try apply(fd, token: token, interest: interest, adding: false)
    }

    func deregister(_ fd: Int32, token: UInt64) {
        var pair = [
            kevent(ident: UInt(fd), filter: Int16(EVFILT_READ), flags: UInt16(EV_DELETE), fflags: 0, data: 0, udata: nil),
            kevent(ident: UInt(fd), filter: Int16(EVFILT_WRITE), flags: UInt16(EV_DELETE), fflags: 0, data: 0, udata: nil),
        ]
        _ = kevent(kq, &pair, 2, nil, 0, nil)
    }

    func wait(timeoutMilliseconds: Int32, into events: inout [PollerEvent]) throws(TransportError) {
        var timeout = timespec(tv_sec: Int(timeoutMilliseconds / 1000), tv_nsec: Int(timeoutMilliseconds % 1000) * 1_000_000)
        let count = received.withUnsafeMutableBufferPointer { buffer in
            withUnsafePointer(to: &timeout) { limit in
                kevent(kq, nil, 0, buffer.baseAddress, Int32(buffer.count), timeoutMilliseconds < 0 ? nil : limit)
            }
        }
        if count < 0 {
            if errno == EINTR { return }
            throw .fromErrno("kevent")
        }
        for index in 0..<Int(count) {
            let event = received[index]
            events.append(PollerEvent(
                token: UInt64(UInt(bitPattern: event.udata)),
                readable: event.filter == Int16(EVFILT_READ),
                writable: event.filter == Int16(EVFILT_WRITE),
                hangup: event.filter == Int16(EVFILT_WRITE) && event.flags & UInt16(EV_EOF) != 0,
                error: event.flags & UInt16(EV_ERROR) != 0
            ))
        }
    }

    func close() { closeDescriptor(kq) }
}
#endif
