#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EpsilonTransport

/// Turns a host into socket addresses: IP literals directly, names through `getaddrinfo`.
/// `package`: the WebSocket client resolves the same way.
package enum AddressResolver {
    /// Addresses for `host:port`, IPv4 first. `getaddrinfo` blocks the calling thread (a
    /// cooperative task thread, never a loop thread) for the lookup.
    static func resolve(host: String, port: UInt16) throws(HTTPClientError) -> [SocketEndpoint] {
        guard let endpoints = endpoints(host: host, port: port) else { throw .hostNotFound(host) }
        return endpoints
    }

    /// Addresses for `host:port`, IPv4 first; nil when the name does not resolve.
    package static func endpoints(host: String, port: UInt16) -> [SocketEndpoint]? {
        if let literal = try? SocketEndpoint.ipv4(host, port: port) { return [literal] }
        if let literal = try? SocketEndpoint.ipv6(host, port: port) { return [literal] }
        if host == "localhost" {
            return [try! SocketEndpoint.ipv4("127.0.0.1", port: port), try! SocketEndpoint.ipv6("::1", port: port)]
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(first) }
        var v4: [SocketEndpoint] = []
        var v6: [SocketEndpoint] = []
        var text = [CChar](repeating: 0, count: 64)
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ai_next }
            guard let address = entry.pointee.ai_addr else { continue }
            switch entry.pointee.ai_family {
            case AF_INET:
                address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                    var raw = pointer.pointee.sin_addr
                    if inet_ntop(AF_INET, &raw, &text, 64) != nil,
                       let endpoint = try? SocketEndpoint.ipv4(Self.string(text), port: port),
                       !v4.contains(endpoint) {
                        v4.append(endpoint)
                    }
                }
            case AF_INET6:
                address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    var raw = pointer.pointee.sin6_addr
                    if inet_ntop(AF_INET6, &raw, &text, 64) != nil,
                       let endpoint = try? SocketEndpoint.ipv6(Self.string(text), port: port),
                       !v6.contains(endpoint) {
                        v6.append(endpoint)
                    }
                }
            default:
                continue
            }
        }
        let all = v4 + v6
        return all.isEmpty ? nil : all
    }

    /// The text of a NUL-terminated C buffer.
    private static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
