#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims

// A connection driven by the completion model (io_uring here, IOCP on Windows). The logic is
// shared; only the `Proactor` calls are OS-specific. At most one receive, one send and one
// connect are in flight per connection.
//
// Buffers and copies:
// - Reads: the kernel picks a loop-owned buffer when data arrives and receives into it; the
//   handler (the sans-IO machine) reads that memory in place, inline on the loop thread, and the
//   buffer goes back to the pool when the callback returns. No copy beyond the kernel's, as with
//   readiness. While reading is paused, a receive already in flight may still complete: its
//   buffer is parked (at most one per connection) and delivered on resume. When every ring
//   buffer is lent out (`-ENOBUFS`), the connection reads once into the loop's spare buffer.
// - Writes: `write` copies into the write queue, as with readiness (the caller's bytes are only
//   valid during the call, and the kernel reads them later). The send's vectors point into the
//   queue's chunks, which stay allocated until the send completes, even if the connection
//   closes meanwhile: the operation table keeps the connection alive until then. The vectors
//   themselves come from a loop-owned pool for the duration of the send.
extension Connection: CompletionTarget {
    private func tag(_ kind: OperationKind) -> OperationTag { OperationTag(slot: operationSlot, kind: kind) }

    func complete(_ completion: Completion) -> Bool {
        switch completion.tag.kind {
        case .receive?:
            return completeReceive(completion)
        case .send?:
            completeSend(completion.result)
        case .connect?:
            completeConnect(completion.result)
        case .accept?, nil:
            break
        }
        return false
    }

    // MARK: Receiving

    /// Submits a receive unless one is in flight, reading is paused or over, or data is parked.
    func startReceiving() {
        guard usesCompletions, state == .active, !readEOF, !readingPaused, !receiveInFlight, parkedBuffer == nil,
              let proactor = core.proactor else { return }
        do {
            try proactor.submitReceive(descriptor, tag: tag(.receive))
        } catch {
            close(error: error)
            return
        }
        core.operationSubmitted(operationSlot)
        receiveInFlight = true
    }

    /// Returns true when the buffer is parked (reading paused).
    private func completeReceive(_ completion: Completion) -> Bool {
        receiveInFlight = false
        guard state == .active else { return false }
        let result = completion.result
        if result > 0, let buffer = completion.buffer {
            if readingPaused {
                parkedBuffer = buffer
                return true
            }
            deliver(buffer.bytes)
            startReceiving()
            return false
        }
        if result == 0 {
            didReachEndOfStream()
            return false
        }
        let code = -result
        switch code {
        case ENOBUFS:
            receiveWithoutRing()
        case EINTR, EAGAIN, ECANCELED:
            startReceiving()
        default:
            close(error: code == ECONNRESET || code == EPIPE ? .connectionReset : .system(call: "recv", errno: code))
        }
        return false
    }

    /// Every ring buffer is lent out (many connections received at once): read once into the
    /// loop's spare buffer, as the readiness path does, then submit a receive again. This keeps
    /// a burst over thousands of connections from turning into a storm of `-ENOBUFS` retries.
    private func receiveWithoutRing() {
        let buffer = core.readBuffer
        while state == .active && !readEOF && !readingPaused {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count > 0 {
                deliver(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                break
            }
            if count == 0 {
                didReachEndOfStream()
                return
            }
            let code = epsilon_errno()
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { break }
            close(error: code == ECONNRESET || code == EPIPE ? .connectionReset : .system(call: "read", errno: code))
            return
        }
        startReceiving()
    }

    /// Reading resumed: the parked data first, then a new receive.
    func resumeReceiving() {
        if let parked = parkedBuffer {
            parkedBuffer = nil
            deliver(parked.bytes)
            core.recycle(parked)
            guard state == .active, !readingPaused, !readEOF else { return }
        }
        startReceiving()
    }

    // MARK: Sending

    /// Submits one gathered send of the queued bytes. True when a send is (now) in flight; false
    /// when the queue is empty or the submission failed (the connection is then closed).
    func submitSend() -> Bool {
        if sendInFlight { return true }
        guard state == .active, !queue.isEmpty, let proactor = core.proactor else { return false }
        // The kernel reads the vectors after this returns: the tail moves into chunks first.
        if let storage = queue.sealTail() { core.returnWriteScratch(storage) }
        var batch = sendBatch ?? core.takeSendBatch()
        batch.fill(from: queue)
        sendBatch = batch
        do {
            try proactor.submitSend(descriptor, batch: batch, tag: tag(.send))
        } catch {
            close(error: error)
            return false
        }
        core.operationSubmitted(operationSlot)
        sendInFlight = true
        return true
    }

    private func completeSend(_ result: Int32) {
        sendInFlight = false
        guard state == .active else { return }
        // The kernel is done with the vectors: back to the loop's pool, so an idle connection
        // holds none (the next send takes one again).
        if let batch = sendBatch {
            sendBatch = nil
            core.returnSendBatch(batch)
        }
        if result > 0 {
            if idleNanoseconds != nil { lastActivity = monotonicNanoseconds() }
            for completion in queue.consume(Int(result)) { completion(nil) }
            if state != .active { return }
        } else if result < 0 {
            let code = -result
            if code != EINTR && code != EAGAIN {
                close(error: code == ECONNRESET || code == EPIPE ? .connectionReset : .system(call: "sendmsg", errno: code))
                return
            }
        }
        if !isWritable && queue.pendingBytes <= watermarks.low {
            setWritable()
            if state != .active { return }
        }
        if submitSend() || state != .active { return }
        finishFlush()
    }

    // MARK: Connecting

    func submitConnect(to address: SocketEndpoint, timeout: Duration?) {
        guard let proactor = core.proactor else { return }
        let storage = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: 1)
        let length = address.withStorage { source, length in
            storage.initialize(to: source.pointee)
            return length
        }
        connectAddress = storage
        do {
            try proactor.submitConnect(descriptor, address: storage, length: length, tag: tag(.connect))
        } catch {
            close(error: error)
            return
        }
        core.operationSubmitted(operationSlot)
        connectInFlight = true
        if let timeout {
            armConnectTimer(after: timeout)
        }
    }

    private func completeConnect(_ result: Int32) {
        connectInFlight = false
        connectAddress?.deinitialize(count: 1)
        connectAddress?.deallocate()
        connectAddress = nil
        guard state == .connecting else { return }
        if result < 0 {
            let code = -result
            close(error: code == ECONNRESET ? .connectionReset : .system(call: "connect", errno: code))
            return
        }
        finishConnect()
    }

    // MARK: Closing

    /// Cancels what is in flight and closes the descriptor. The queue's memory stays until an
    /// in-flight send completes (then the connection deinitializes and frees it); the returned
    /// write completions are failed by the caller now.
    func closeOperations() -> [(TransportError?) -> Void] {
        if let proactor = core.proactor {
            if receiveInFlight { proactor.cancel(tag(.receive)) }
            if sendInFlight { proactor.cancel(tag(.send)) }
            if connectInFlight { proactor.cancel(tag(.connect)) }
            // Operations still queued name the descriptor by number: hand them (and the
            // cancellations) to the kernel before the number can be reused by a new socket.
            if receiveInFlight || sendInFlight || connectInFlight { proactor.submitNow() }
        }
        closeDescriptor(descriptor)
        if let parked = parkedBuffer {
            parkedBuffer = nil
            core.recycle(parked)
        }
        let failed = sendInFlight ? queue.takeCompletions() : queue.drop()
        core.retireOperations(operationSlot)
        return failed
    }
}
