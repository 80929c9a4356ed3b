#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims

/// A bound UDP socket on one loop. Receives with `recvmmsg` (up to 8 datagrams per call on
/// Linux) and sends with `sendto`, queueing under `EAGAIN` and flushing the queue with `sendmmsg`.
public final class DatagramSocket: Selectable {
    /// The loop that owns the socket.
    public let loop: IOLoop
    /// The descriptor, valid until ``close()``.
    public let descriptor: Int32
    /// The bound address (with the real port when port 0 was asked for).
    public let localAddress: SocketEndpoint
    /// The handler receiving datagrams.
    public var handler: any DatagramHandler
    private var closed = false
    // Queued datagrams live in manually allocated memory so `iovec`s can point at them.
    private var pending: [(bytes: UnsafeMutableRawBufferPointer, to: SocketEndpoint)] = []
    private var pendingHead = 0
    /// Datagrams dropped because the send queue was full.
    public private(set) var droppedDatagrams = 0
    /// Most datagrams held while the kernel's send buffer is full; more are dropped (UDP may lose).
    public var sendQueueLimit = 1024

    init(loop: IOLoop, descriptor: Int32, localAddress: SocketEndpoint, handler: any DatagramHandler) {
        self.loop = loop
        self.descriptor = descriptor
        self.localAddress = localAddress
        self.handler = handler
    }

    func handle(_ event: PollerEvent) {
        if closed { return }
        if event.readable || event.error { receiveAvailable() }
        if !closed && event.writable && pendingHead < pending.count { flushPending() }
    }

    func loopWillStop() { close(error: .loopStopped) }

    private func receiveAvailable() {
        let buffer = loop.core.datagramBuffer
        let edge = loop.core.isEdgeTriggered
        var rounds = 0
        while !closed {
            #if os(Linux)
            var addresses = [sockaddr_storage](repeating: sockaddr_storage(), count: LoopCore.datagramSlotCount)
            var addressLengths = [socklen_t](repeating: 0, count: LoopCore.datagramSlotCount)
            var lengths = [Int](repeating: 0, count: LoopCore.datagramSlotCount)
            let count = epsilon_recvmmsg(descriptor, buffer.baseAddress, LoopCore.datagramSlotSize,
                                         Int32(LoopCore.datagramSlotCount), &addresses, &addressLengths, &lengths)
            if count < 0 {
                let code = epsilon_errno()
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return }
                // ICMP errors (ECONNREFUSED from an earlier send) are reported here; they do not
                // make the socket unusable.
                if code == ECONNREFUSED { continue }
                close(error: .system(call: "recvmmsg", errno: code))
                return
            }
            for index in 0..<Int(count) {
                let sender = addresses.withUnsafeBufferPointer { pointer in
                    SocketEndpoint(storage: pointer.baseAddress! + index, length: addressLengths[index])
                } ?? .unixPath("")
                let start = index * LoopCore.datagramSlotSize
                handler.socket(self, didReceive: UnsafeRawBufferPointer(rebasing: buffer[start..<(start + lengths[index])]),
                               from: sender)
                if closed { return }
            }
            if Int(count) < LoopCore.datagramSlotCount { return }
            #else
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = epsilon_recvfrom(descriptor, buffer.baseAddress, LoopCore.datagramSlotSize, &address, &length)
            if count < 0 {
                let code = epsilon_errno()
                if code == EINTR || code == ECONNREFUSED { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return }
                close(error: .system(call: "recvfrom", errno: code))
                return
            }
            let sender = SocketEndpoint(storage: &address, length: length) ?? .unixPath("")
            handler.socket(self, didReceive: UnsafeRawBufferPointer(rebasing: buffer[0..<count]), from: sender)
            #endif
            rounds += 1
            if !edge && rounds >= 4 { return }
        }
    }

    /// Sends one datagram to `address`. When the kernel's buffer is full the datagram is copied
    /// into a bounded queue and sent when writable. Loop thread only.
    public func send(_ bytes: UnsafeRawBufferPointer, to address: SocketEndpoint) throws(TransportError) {
        guard !closed else { throw .closed }
        if pendingHead == pending.count {
            let sent = address.withStorage { storage, length in
                epsilon_sendto(descriptor, bytes.baseAddress, bytes.count, storage, length)
            }
            if sent >= 0 { return }
            let code = epsilon_errno()
            if code != EAGAIN && code != EWOULDBLOCK && code != ENOBUFS {
                throw .system(call: "sendto", errno: code)
            }
        }
        if pending.count - pendingHead >= sendQueueLimit {
            droppedDatagrams += 1
            return
        }
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        if let source = bytes.baseAddress, bytes.count > 0 {
            copy.baseAddress!.copyMemory(from: source, byteCount: bytes.count)
        }
        pending.append((UnsafeMutableRawBufferPointer(rebasing: copy[0..<bytes.count]), address))
        try? loop.core.setInterest(descriptor, [.read, .write])
    }

    /// Sends one datagram (see ``send(_:to:)-(UnsafeRawBufferPointer,_)``).
    public func send(_ bytes: [UInt8], to address: SocketEndpoint) throws(TransportError) {
        var result: TransportError?
        bytes.withUnsafeBytes { raw in
            do throws(TransportError) { try send(raw, to: address) } catch { result = error }
        }
        if let result { throw result }
    }

    private func flushPending() {
        while pendingHead < pending.count {
            #if os(Linux)
            let batch = min(64, pending.count - pendingHead)
            var addresses = [sockaddr_storage](repeating: sockaddr_storage(), count: batch)
            var lengths = [socklen_t](repeating: 0, count: batch)
            for index in 0..<batch {
                pending[pendingHead + index].to.withStorage { storage, length in
                    addresses[index] = storage.pointee
                    lengths[index] = length
                }
            }
            var vectors = (0..<batch).map { index in
                iovec(iov_base: pending[pendingHead + index].bytes.baseAddress,
                      iov_len: pending[pendingHead + index].bytes.count)
            }
            let sent = epsilon_sendmmsg(descriptor, &vectors, Int32(batch), &addresses, &lengths)
            #else
            let item = pending[pendingHead]
            let single = item.to.withStorage { storage, length in
                epsilon_sendto(descriptor, item.bytes.baseAddress, item.bytes.count, storage, length)
            }
            let sent: Int32 = single >= 0 ? 1 : -1
            #endif
            if sent < 0 {
                let code = epsilon_errno()
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK || code == ENOBUFS { return }
                // A datagram the kernel refuses (EMSGSIZE, unreachable) is dropped, not fatal.
                droppedDatagrams += 1
                freePending(count: 1)
                continue
            }
            freePending(count: Int(sent))
        }
        pending.removeAll(keepingCapacity: pending.count < 64)
        pendingHead = 0
        try? loop.core.setInterest(descriptor, .read)
    }

    private func freePending(count: Int) {
        for index in pendingHead..<(pendingHead + count) {
            UnsafeMutableRawBufferPointer(start: pending[index].bytes.baseAddress, count: 1).deallocate()
        }
        pendingHead += count
    }

    /// Closes the socket. Loop thread only.
    public func close() { close(error: nil) }

    private func close(error: TransportError?) {
        guard !closed else { return }
        closed = true
        loop.core.deregister(descriptor)
        closeDescriptor(descriptor)
        freePending(count: pending.count - pendingHead)
        pending = []
        pendingHead = 0
        handler.socketDidClose(self, error: error)
    }

    /// True once closed.
    public var isClosed: Bool { closed }
}

extension IOLoop {
    /// Binds a UDP socket to `address` (port 0 for an ephemeral port). Loop thread only.
    public func bindDatagram(to address: SocketEndpoint, reuseAddress: Bool = true,
                             handler: any DatagramHandler) throws(TransportError) -> DatagramSocket {
        preconditionInLoop()
        let fd = epsilon_socket(address.family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw .fromErrno("socket") }
        if reuseAddress { _ = epsilon_set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1) }
        let bound = address.withStorage { storage, length in epsilon_bind(fd, storage, length) }
        guard bound == 0 else {
            let error = TransportError.fromErrno("bind")
            closeDescriptor(fd)
            throw error
        }
        let local = SocketEndpoint.local(of: fd) ?? address
        let socket = DatagramSocket(loop: self, descriptor: fd, localAddress: local, handler: handler)
        do {
            try core.register(fd, socket, interest: .read)
        } catch {
            closeDescriptor(fd)
            throw error
        }
        return socket
    }
}
