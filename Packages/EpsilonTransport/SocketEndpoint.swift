#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims

/// A socket address: IPv4 or IPv6 host and port, or a Unix domain socket path.
///
/// Build one from text with ``ipv4(_:port:)``, ``ipv6(_:port:)`` or ``unix(path:)``; read the
/// bound address of a listener with its `localAddress` (port 0 binds an ephemeral port).
public enum SocketEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 address: four octets in network order and a port.
    case v4(octets: UInt32, port: UInt16)
    /// An IPv6 address: sixteen bytes, a port and a scope id.
    case v6(bytes: [UInt8], port: UInt16, scope: UInt32)
    /// A Unix domain socket path.
    case unixPath(String)

    /// Parses a dotted IPv4 address such as `127.0.0.1`.
    public static func ipv4(_ text: String, port: UInt16) throws(TransportError) -> SocketEndpoint {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { throw .unparsableAddress(text) }
        return .v4(octets: UInt32(bigEndian: address.s_addr), port: port)
    }

    /// Parses an IPv6 address such as `::1`.
    public static func ipv6(_ text: String, port: UInt16) throws(TransportError) -> SocketEndpoint {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { throw .unparsableAddress(text) }
        let bytes = withUnsafeBytes(of: &address) { Array($0) }
        return .v6(bytes: bytes, port: port, scope: 0)
    }

    /// A Unix domain socket at `path` (at most 107 bytes on Linux).
    public static func unix(path: String) throws(TransportError) -> SocketEndpoint {
        guard path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else {
            throw .unparsableAddress(path)
        }
        return .unixPath(path)
    }

    /// The port, or nil for a Unix domain socket.
    public var port: UInt16? {
        switch self {
        case .v4(_, let port), .v6(_, let port, _): return port
        case .unixPath: return nil
        }
    }

    /// The same address with another port (Unix paths are returned unchanged).
    public func withPort(_ port: UInt16) -> SocketEndpoint {
        switch self {
        case .v4(let octets, _): return .v4(octets: octets, port: port)
        case .v6(let bytes, _, let scope): return .v6(bytes: bytes, port: port, scope: scope)
        case .unixPath: return self
        }
    }

    /// The address family constant (`AF_INET`, `AF_INET6`, `AF_UNIX`).
    var family: Int32 {
        switch self {
        case .v4: return AF_INET
        case .v6: return AF_INET6
        case .unixPath: return AF_UNIX
        }
    }

    /// `host:port`, `[host]:port` or `unix:path`.
    public var description: String {
        switch self {
        case .v4(let octets, let port):
            return "\(octets >> 24).\((octets >> 16) & 0xff).\((octets >> 8) & 0xff).\(octets & 0xff):\(port)"
        case .v6(let bytes, let port, _):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { raw in
                for index in 0..<min(16, bytes.count) { raw[index] = bytes[index] }
            }
            var text = [CChar](repeating: 0, count: 64)
            _ = inet_ntop(AF_INET6, &address, &text, 64)
            let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return "[\(host)]:\(port)"
        case .unixPath(let path):
            return "unix:\(path)"
        }
    }

    /// Writes the address into a `sockaddr_storage` and returns its length.
    func withStorage<R>(_ body: (UnsafePointer<sockaddr_storage>, socklen_t) -> R) -> R {
        var storage = sockaddr_storage()
        let length: socklen_t
        switch self {
        case .v4(let octets, let port):
            length = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    address.pointee.sin_family = sa_family_t(AF_INET)
                    address.pointee.sin_port = port.bigEndian
                    address.pointee.sin_addr.s_addr = octets.bigEndian
                    return socklen_t(MemoryLayout<sockaddr_in>.size)
                }
            }
        case .v6(let bytes, let port, let scope):
            length = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    address.pointee.sin6_family = sa_family_t(AF_INET6)
                    address.pointee.sin6_port = port.bigEndian
                    address.pointee.sin6_scope_id = scope
                    withUnsafeMutableBytes(of: &address.pointee.sin6_addr) { raw in
                        for index in 0..<min(16, bytes.count) { raw[index] = bytes[index] }
                    }
                    return socklen_t(MemoryLayout<sockaddr_in6>.size)
                }
            }
        case .unixPath(let path):
            length = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { address in
                    address.pointee.sun_family = sa_family_t(AF_UNIX)
                    withUnsafeMutableBytes(of: &address.pointee.sun_path) { raw in
                        var index = 0
                        for byte in path.utf8 where index < raw.count - 1 {
                            raw[index] = byte
                            index += 1
                        }
                        raw[index] = 0
                    }
                    return socklen_t(MemoryLayout<sockaddr_un>.size)
                }
            }
        }
        return body(&storage, length)
    }

    /// Reads an address from a `sockaddr_storage` filled by the kernel; nil for unknown families.
    init?(storage: UnsafePointer<sockaddr_storage>, length: socklen_t) {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let address = UnsafeRawPointer(storage).load(as: sockaddr_in.self)
            self = .v4(octets: UInt32(bigEndian: address.sin_addr.s_addr), port: UInt16(bigEndian: address.sin_port))
        case AF_INET6:
            var address = UnsafeRawPointer(storage).load(as: sockaddr_in6.self)
            let bytes = withUnsafeBytes(of: &address.sin6_addr) { Array($0) }
            self = .v6(bytes: bytes, port: UInt16(bigEndian: address.sin6_port), scope: address.sin6_scope_id)
        case AF_UNIX:
            var address = UnsafeRawPointer(storage).load(as: sockaddr_un.self)
            let path = withUnsafeBytes(of: &address.sun_path) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            _ = length
            self = .unixPath(path)
        default:
            return nil
        }
    }

    /// The local address bound to descriptor `fd` (`getsockname`), if the kernel reports one.
    public static func local(of fd: Int32) -> SocketEndpoint? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        guard epsilon_getsockname(fd, &storage, &length) == 0 else { return nil }
        return SocketEndpoint(storage: &storage, length: length)
    }

    /// The peer address of `fd`, if connected.
    static func remote(of fd: Int32) -> SocketEndpoint? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        guard epsilon_getpeername(fd, &storage, &length) == 0 else { return nil }
        return SocketEndpoint(storage: &storage, length: length)
    }
}
