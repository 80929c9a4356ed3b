// Shared writes: one immutable buffer queued on many connections without a copy per connection
// (a broadcast). The write queue keeps a reference segment and points the gathered send's
// vector at the shared memory; a completion backend (io_uring) keeps the reference until the
// send that reads it completes. With TLS the engine encrypts the bytes into the queue as for
// any write (the one copy encryption makes anyway).

extension Connection {
    /// Queues `shared` after the bytes queued before it, by reference: the kernel reads the
    /// shared memory itself, so the same bytes queued on many connections exist once. Small
    /// buffers (256 bytes or less) are copied into the queue instead, which costs less than
    /// the reference; with TLS the bytes are encrypted into the queue like any write.
    ///
    /// Everything else is as for ``write(_:completion:)-(UnsafeRawBufferPointer,_)``: the
    /// bytes count towards ``pendingWriteBytes`` and the watermarks, `completion` runs on the
    /// loop once they are handed to the kernel (or with an error if the connection closes
    /// first), and the connection holds its reference until then (or until it closes).
    public func write(shared: ConnectionSharedBytes, completion: ((TransportError?) -> Void)? = nil) {
        guard acceptsWrite(completion: completion) else { return }
        if let tls {
            tls.write(shared.bytes, on: self, completion: completion)
            return
        }
        if queue.hasPendingTail && shared.count > WriteQueue.sharedCopyLimit {
            // Bytes appended in place wait in the tail: move them into the chunks so that the
            // shared segment can follow them.
            if let storage = queue.sealTail() { core.returnWriteScratch(storage) }
        }
        queue.append(shared: shared)
        if let completion { queue.appendCompletion(completion) }
        queueDidGrow()
    }
}
