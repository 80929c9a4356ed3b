#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sockets on 127.0.0.1 for test peers: a free port, a listening socket, a readiness probe.
public enum LoopbackPort {
    /// A port the kernel just gave out and took back (a peer configured with it binds it next).
    public static func free() throws(TestPeerError) -> UInt16 {
        let (fd, port) = try bound()
        close(fd)
        return port
    }

    /// A socket listening on 127.0.0.1 at a port the kernel chose, and that port; the caller
    /// owns (and closes) the descriptor.
    public static func listening(backlog: Int32) throws(TestPeerError) -> (descriptor: Int32, port: UInt16) {
        let (fd, port) = try bound()
        guard listen(fd, backlog) == 0 else {
            close(fd)
            throw TestPeerError("cannot listen on 127.0.0.1 (errno \(errno))")
        }
        return (fd, port)
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` now (a connect on loopback
    /// is answered at once: accepted or refused).
    public static func accepts(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// A TCP socket bound to 127.0.0.1 at a port the kernel chose.
    private static func bound() throws(TestPeerError) -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestPeerError("no socket (errno \(errno))") }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw TestPeerError("cannot bind 127.0.0.1 (errno \(errno))")
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
