import EpsilonTransport

// Broadcast frames through the server's seams: the transport's connection queues a shared
// frame by reference (Connection+SharedBytes.swift); any other socket side (the in-memory I/O,
// an HTTP/2 stream) copies it into its output by default.

extension HTTPServerIO {
    func write(shared: ConnectionSharedBytes, limit: Int) -> Bool {
        guard isWritable || pendingWriteBytes + shared.count <= limit else { return false }
        write { output in shared.withUnsafeBytes { output.append(contentsOf: $0) } }
        return true
    }
}

extension HTTPServerConnectionHandler {
    func write(shared: ConnectionSharedBytes, limit: Int) -> Bool {
        // One load of the weak reference for the room check and the write.
        guard let connection else { return true }
        guard connection.isWritable || connection.pendingWriteBytes + shared.count <= limit else { return false }
        connection.write(shared: shared)
        return true
    }
}
