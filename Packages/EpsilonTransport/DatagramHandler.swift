/// Receives datagrams for a ``DatagramSocket``, inline on its loop thread.
public protocol DatagramHandler: AnyObject {
    /// A datagram arrived; `bytes` points into the loop's buffer and is valid only during the call.
    func socket(_ socket: DatagramSocket, didReceive bytes: UnsafeRawBufferPointer, from sender: SocketEndpoint)
    /// The socket closed; `error` is nil for a local close.
    func socketDidClose(_ socket: DatagramSocket, error: TransportError?)
}

extension DatagramHandler {
    /// Does nothing.
    public func socketDidClose(_ socket: DatagramSocket, error: TransportError?) {}
}
