extension AsyncConnection {
    /// Queues `bytes` for writing and returns at once, without waiting for the kernel to take
    /// them (``write(_:)`` waits, which costs a second thread hop).
    ///
    /// For request/response exchanges whose caller reads the answer next: that read bounds
    /// what is queued, and a failed write shows there (the connection closes, the read reports
    /// why). Use ``write(_:)`` for anything larger or unbounded, such as a streamed body, so
    /// that the peer's pace limits the queue.
    public func enqueue(_ bytes: [UInt8]) {
        let connection = self.connection
        // A stopped loop has closed the connection: the next read reports it.
        _ = connection.loop.execute { connection.value.write(bytes) }
    }
}
