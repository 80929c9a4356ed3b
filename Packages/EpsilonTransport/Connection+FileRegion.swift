#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims

// Zero-copy file bodies: a file region queued on a connection is sent with sendfile(2) after
// every byte queued before it, and before any byte queued after it. One region at a time;
// cleartext connections on a readiness backend (epoll, poll) on Linux only — elsewhere
// `sendFile` returns false and the caller copies the bytes itself.

/// A part of an open file waiting to be sent on a connection (which owns the descriptor).
struct FileRegion {
    var descriptor: Int32
    var offset: UInt64
    var remaining: UInt64
    /// The write queue's `enqueuedTotal` when the region was queued: the bytes before it.
    let start: UInt64
    /// Called after each send while the region is queued, with the bytes the kernel took (of
    /// those queued before the region, or of the region), except the send that completes it.
    let progress: ((UInt64) -> Void)?
    let completion: (TransportError?) -> Void
}

extension Connection {
    /// Whether ``sendFile(descriptor:offset:count:progress:completion:)`` can work on this connection:
    /// Linux, no TLS, a readiness backend, open for writing.
    public var canSendFiles: Bool {
        #if os(Linux)
        return tls == nil && !usesCompletions && state == .active && !outputShutdownRequested
        #else
        return false
        #endif
    }

    /// Queues `count` bytes of the file open as `descriptor`, from `offset`, to be sent with
    /// `sendfile(2)` after the bytes already queued (bytes written later follow the region).
    ///
    /// The connection takes ownership of `descriptor` and closes it when the region is sent
    /// or the connection closes; `completion` runs on the loop then, once, with nil or the
    /// error (a file shorter than `count` is `.system(call: "sendfile", errno: EIO)` and
    /// closes the connection). `progress`, when given, runs on the loop after each send while
    /// the region is queued (of the bytes queued before it, or of the region) but the one that
    /// completes it, with the bytes that send took: a slow reader's progress, for a caller's
    /// stall timer. Returns false, taking nothing, when
    /// ``canSendFiles`` is false or a region is already queued. The region's bytes do not
    /// count towards ``pendingWriteBytes``: pace with `completion`. The first region ignores
    /// `SIGPIPE` process-wide if it is at its default (sendfile has no `MSG_NOSIGNAL`).
    public func sendFile(descriptor: Int32, offset: UInt64, count: UInt64,
                         progress: ((_ sent: UInt64) -> Void)? = nil,
                         completion: @escaping (TransportError?) -> Void) -> Bool {
        assert(loop.inEventLoop, "Connection used off its loop's thread")
        guard canSendFiles, fileRegion == nil, count > 0 else { return false }
        Self.ignoreBrokenPipeSignals
        fileRegion = FileRegion(descriptor: descriptor, offset: offset, remaining: count,
                                start: queue.enqueuedTotal, progress: progress, completion: completion)
        flush()
        return true
    }

    /// SIGPIPE ignored once, when still at its default action.
    private static let ignoreBrokenPipeSignals: Void = {
        var current = sigaction()
        if sigaction(SIGPIPE, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil {
            signal(SIGPIPE, SIG_IGN)
        }
    }()

    /// The flush while a region is queued: the bytes before it, then the region, then (once
    /// it is sent) the usual flush of what came after.
    func flushWithFileRegion() {
        #if os(Linux)
        while state == .active, var region = fileRegion {
            let before = region.start &- queue.writtenTotal
            if before > 0 {
                let vectors = core.vectors
                let written = queue.withPendingVectors(vectors, capacity: LoopCore.vectorCapacity) { count in
                    epsilon_sendmsg_iov(descriptor, vectors, Int32(Self.trim(vectors, count: count, to: before)))
                }
                if written > 0 {
                    if idleNanoseconds != nil { lastActivity = monotonicNanoseconds() }
                    for completion in queue.consume(written) { completion(nil) }
                    fileRegion?.progress?(UInt64(written))
                    continue
                }
                let code = epsilon_errno()
                if code == EINTR { continue }
                if !handleSendError(code, call: "sendmsg") { return }
                break
            }
            var offset = off_t(region.offset)
            let sent = sendfile(descriptor, region.descriptor, &offset, Int(min(region.remaining, 1 << 30)))
            if sent > 0 {
                if idleNanoseconds != nil { lastActivity = monotonicNanoseconds() }
                region.offset += UInt64(sent)
                region.remaining -= UInt64(sent)
                if region.remaining == 0 {
                    fileRegion = nil
                    closeDescriptor(region.descriptor)
                    region.completion(nil)
                    if state == .active { flush() }
                    return
                }
                fileRegion = region
                region.progress?(UInt64(sent))
                continue
            }
            if sent == 0 {
                // The file ended before the region: the peer must not take a short body as whole.
                close(error: .system(call: "sendfile", errno: EIO))
                return
            }
            let code = epsilon_errno()
            if code == EINTR { continue }
            if !handleSendError(code, call: "sendfile") { return }
            break
        }
        // Waiting for writability (or closed).
        finishFlush()
        #endif
    }

    /// After a failed send: true when the socket is merely full (wait), false when the
    /// connection was closed.
    private func handleSendError(_ code: Int32, call: String) -> Bool {
        if code == EAGAIN || code == EWOULDBLOCK { return true }
        close(error: code == ECONNRESET || code == EPIPE ? .connectionReset : .system(call: call, errno: code))
        return false
    }

    /// Cuts the first `count` vectors to at most `limit` bytes in all; returns how many remain.
    private static func trim(_ vectors: UnsafeMutablePointer<iovec>, count: Int, to limit: UInt64) -> Int {
        var left = limit
        for index in 0..<count {
            let length = UInt64(vectors[index].iov_len)
            if length >= left {
                vectors[index].iov_len = Int(left)
                return index + 1
            }
            left -= length
        }
        return count
    }

    /// Closes the queued region's descriptor and returns its completion (the connection closes).
    func dropFileRegion() -> ((TransportError?) -> Void)? {
        guard let region = fileRegion else { return nil }
        fileRegion = nil
        closeDescriptor(region.descriptor)
        return region.completion
    }
}
