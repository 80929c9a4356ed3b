#if os(Linux) && !EPSILON_IOCP_FACSIMILE
// (Left out when `bash Tests/TypeCheck/run` type-checks the IOCP backend: `SendBatch` then
// takes its Windows shape, which has no `msghdr`.)
import Glibc
import CEpsilonTransportShims

/// The io_uring backend (raw system calls in the C shim; no liburing needed at build time).
///
/// In completion mode (``PollerBackend/ioUring``) it is also the loop's ``Proactor``: stream
/// connections and listeners submit receive, send, accept and connect operations; receives
/// land in a provided-buffer ring of loop-owned buffers (`IORING_REGISTER_PBUF_RING`), so a
/// connection waiting for data holds no buffer. The loop's wake-up descriptor and datagram
/// sockets still use readiness on the same ring.
///
/// As a readiness source (both modes): one multishot `IORING_OP_POLL_ADD` per descriptor.
/// Multishot poll reports wake-ups, not levels, so the loop treats this backend as
/// edge-triggered: it reads and writes until `EAGAIN` and never modifies a registration.
/// Registrations that the kernel ends (a completion without `IORING_CQE_F_MORE`) are re-armed.
final class IOUringPoller: Poller, Proactor {
    private let ring: OpaquePointer
    private var nextSerial: UInt64 = 1
    /// fd → the serial (user_data) of its live poll and the loop's token.
    private var byFD: [Int32: (serial: UInt64, token: UInt64)] = [:]
    /// serial → fd, for live polls only; completions of removed polls find nothing and are dropped.
    private var bySerial: [UInt64: Int32] = [:]
    private let capacity = 1024
    private var userData: [UInt64]
    private var results: [Int32]
    private var flags: [UInt32]
    /// Removal requests carry the removed poll's serial with this bit set.
    private static let removalBit: UInt64 = 1 << 63
    private static let removalTag: UInt64 = 0
    private static let pollMask = UInt32(POLLIN) | UInt32(POLLOUT) | 0x2000 /* POLLRDHUP */

    /// Operation completions collected by the last wait (completion mode only).
    private var completions: [Completion] = []
    /// Whether this ring runs the completion model (else readiness only).
    let usesCompletions: Bool
    /// The provided-buffer ring: `bufferCount` buffers of `bufferSize` bytes per loop.
    static let bufferCount: UInt32 = 128
    static let bufferSize: UInt32 = 32 * 1024

    var backend: PollerBackend { usesCompletions ? .ioUring : .ioUringPoll }
    var isEdgeTriggered: Bool { true }
    var proactor: (any Proactor)? { usesCompletions ? self : nil }

    init(completions: Bool) throws(TransportError) {
        var error: Int32 = 0
        guard let ring = epsilon_uring_create(4096, 65_536, &error) else {
            let reason = error == ENOTSUP
                ? "kernel lacks IORING_FEAT_EXT_ARG (needs Linux 5.11+)"
                : "io_uring_setup: errno \(error) (\(String(cString: strerror(error))))"
            throw .backendUnavailable(reason)
        }
        if completions {
            let result = epsilon_uring_setup_buffers(ring, IOUringPoller.bufferCount, IOUringPoller.bufferSize)
            if result != 0 {
                epsilon_uring_destroy(ring)
                throw .backendUnavailable(
                    "io_uring provided-buffer ring refused (errno \(-result): \(String(cString: strerror(-result)))); needs Linux 5.19+")
            }
        }
        usesCompletions = completions
        self.ring = ring
        userData = Array(repeating: 0, count: capacity)
        results = Array(repeating: 0, count: capacity)
        flags = Array(repeating: 0, count: capacity)
    }

    private func arm(_ fd: Int32, token: UInt64) throws(TransportError) {
        let serial = nextSerial
        nextSerial &+= 1
        if nextSerial & IOUringPoller.removalBit != 0 { nextSerial = 1 }
        let result = epsilon_uring_poll_add(ring, fd, IOUringPoller.pollMask, serial, 1)
        guard result == 0 else { throw .system(call: "io_uring poll_add", errno: -result) }
        byFD[fd] = (serial, token)
        bySerial[serial] = fd
    }

    func register(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError) {
        try arm(fd, token: token)
    }

    func reregister(_ fd: Int32, token: UInt64, interest: Interest) throws(TransportError) {
        // Edge-triggered: the registration always covers both directions.
        if let live = byFD[fd], live.token != token { byFD[fd] = (live.serial, token) }
    }

    func deregister(_ fd: Int32, token: UInt64) {
        guard let live = byFD.removeValue(forKey: fd) else { return }
        bySerial[live.serial] = nil
        _ = epsilon_uring_poll_remove(ring, live.serial, IOUringPoller.removalBit | live.serial)
        // Submit now: a pending poll holds a reference to the file, so the socket would not
        // really close (no FIN to the peer) until the removal reaches the kernel.
        _ = epsilon_uring_submit_and_wait(ring, 0)
    }

    func wait(timeoutMilliseconds: Int32, into events: inout [PollerEvent]) throws(TransportError) {
        let result = epsilon_uring_submit_and_wait(ring, timeoutMilliseconds)
        if result < 0 { throw .system(call: "io_uring_enter", errno: -result) }
        var retrySubmit = false
        while true {
            let count = Int(epsilon_uring_reap(ring, &userData, &results, &flags, Int32(capacity)))
            for index in 0..<count {
                let serial = userData[index]
                if let tag = OperationTag(rawValue: serial) {
                    completions.append(completion(tag, result: results[index], flags: flags[index]))
                    continue
                }
                if serial & IOUringPoller.removalBit != 0 {
                    // EALREADY: the poll was busy posting a completion and is still armed (it
                    // would keep the socket open); ask again. ENOENT: it is already gone.
                    if results[index] == -EALREADY {
                        _ = epsilon_uring_poll_remove(ring, serial & ~IOUringPoller.removalBit, serial)
                        retrySubmit = true
                    }
                    continue
                }
                guard serial != IOUringPoller.removalTag, let fd = bySerial[serial], let live = byFD[fd] else { continue }
                let result = results[index]
                let more = flags[index] & (1 << 1) != 0 // IORING_CQE_F_MORE
                if result < 0 {
                    bySerial[serial] = nil
                    if result == -ECANCELED {
                        // The kernel dropped the poll (not our removal, which forgets the serial
                        // first); arm it again.
                        try? arm(fd, token: live.token)
                    } else {
                        events.append(PollerEvent(token: live.token, readable: true, writable: true, hangup: true, error: true))
                    }
                    continue
                }
                let mask = UInt32(bitPattern: result)
                events.append(PollerEvent(
                    token: live.token,
                    readable: mask & (UInt32(POLLIN) | 0x2000) != 0,
                    writable: mask & UInt32(POLLOUT) != 0,
                    hangup: mask & UInt32(POLLHUP) != 0,
                    error: mask & UInt32(POLLERR) != 0
                ))
                if !more {
                    bySerial[serial] = nil
                    try? arm(fd, token: live.token)
                }
            }
            if count < capacity { break }
        }
        if retrySubmit { _ = epsilon_uring_submit_and_wait(ring, 0) }
    }

    func close() { epsilon_uring_destroy(ring) }

    // MARK: Proactor

    private func completion(_ tag: OperationTag, result: Int32, flags: UInt32) -> Completion {
        var buffer: ReceivedBuffer?
        if flags & 1 != 0 { // IORING_CQE_F_BUFFER
            let id = UInt16(truncatingIfNeeded: flags >> 16)
            let count = result > 0 ? Int(result) : 0
            buffer = ReceivedBuffer(id: id, bytes: UnsafeRawBufferPointer(start: epsilon_uring_buffer(ring, id), count: count))
        }
        return Completion(tag: tag, result: result, more: flags & (1 << 1) != 0, buffer: buffer)
    }

    private func check(_ result: Int32, _ call: String) throws(TransportError) {
        guard result == 0 else { throw .system(call: call, errno: -result) }
    }

    func submitReceive(_ fd: Int32, tag: OperationTag) throws(TransportError) {
        try check(epsilon_uring_recv(ring, fd, tag.rawValue), "io_uring recv")
    }

    func submitSend(_ fd: Int32, batch: SendBatch, tag: OperationTag) throws(TransportError) {
        try check(epsilon_uring_sendmsg(ring, fd, batch.header, tag.rawValue), "io_uring sendmsg")
    }

    func submitAccept(_ fd: Int32, multishot: Bool, tag: OperationTag) throws(TransportError) {
        try check(epsilon_uring_accept(ring, fd, multishot ? 1 : 0, tag.rawValue), "io_uring accept")
    }

    func submitConnect(_ fd: Int32, address: UnsafePointer<sockaddr_storage>, length: socklen_t,
                       tag: OperationTag) throws(TransportError) {
        try check(epsilon_uring_connect(ring, fd, address, length, tag.rawValue), "io_uring connect")
    }

    func cancel(_ tag: OperationTag) {
        // The cancellation's own completion carries tag 0 (dropped by `wait`).
        _ = epsilon_uring_cancel(ring, tag.rawValue, IOUringPoller.removalTag)
    }

    func recycle(_ buffer: ReceivedBuffer) {
        epsilon_uring_recycle_buffer(ring, buffer.id)
    }

    func submitNow() {
        _ = epsilon_uring_submit_and_wait(ring, 0)
    }

    func takeCompletions(into completions: inout [Completion]) {
        swap(&completions, &self.completions)
        self.completions.removeAll(keepingCapacity: true)
    }
}
#endif
