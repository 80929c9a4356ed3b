#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EpsilonHTTPServerPreview
import EpsilonTransport
import Testing

/// A blocking TCP client on raw sockets, every wait bounded by a receive timeout.
struct RawClient: ~Copyable {
    let fd: Int32

    init(port: UInt16, receiveTimeout: Duration) throws {
        #if canImport(Glibc)
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw RawClientError.failed("socket") }
        let (seconds, attoseconds) = receiveTimeout.components
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw RawClientError.failed("connect")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { rawSend(fd, $0) }
        guard sent == bytes.count else { throw RawClientError.failed("send") }
    }

    /// Reads until `text` has appeared `count` times, the peer closes, or a read times out.
    func read(until text: String, count: Int = 1) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while occurrences(of: text, in: String(decoding: received, as: UTF8.self)) < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            received += buffer[..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }
}

enum RawClientError: Error { case failed(String) }

/// `send(2)` without SIGPIPE (a free function: inside ``RawClient`` the name is its method's).
func rawSend(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
    #if canImport(Glibc)
    send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
    #else
    send(fd, bytes.baseAddress, bytes.count, 0)
    #endif
}

func occurrences(of needle: String, in haystack: String) -> Int {
    let n = Array(needle.utf8), h = Array(haystack.utf8)
    guard !n.isEmpty, h.count >= n.count else { return 0 }
    return (0...(h.count - n.count)).count { h[$0..<$0 + n.count].elementsEqual(n) }
}

/// Issue 13, "Attacked as a hostile client would": a request preceded by an empty line
/// (RFC 9112 §2.2) used to stall until the 10 s head timer; it must be answered at once.
@Suite(.serialized) struct LeadingCRLFOverLoopback {
    static func withServer(_ body: (UInt16) throws -> Void) async throws {
        let group = try IOLoopGroup(loopCount: 1)
        let server = try await HelloServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0), body: "hello\n")
        let port = server.localAddress.port ?? 0
        var failure: (any Error)?
        do { try body(port) } catch { failure = error }
        await server.shutdown(gracePeriod: .zero)
        await group.shutdown()
        if let failure { throw failure }
    }

    @Test(arguments: [
        ["\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"],
        ["\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"],
        ["\r\n", "GET / HTTP/1.1\r\nHost: x\r\n", "\r\n"],
        ["\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"],
    ])
    func aRequestAfterEmptyLinesIsAnsweredAtOnce(_ writes: [String]) async throws {
        try await Self.withServer { port in
            let client = try RawClient(port: port, receiveTimeout: .seconds(3))
            let start = ContinuousClock.now
            for piece in writes { try client.send(piece) }
            let response = client.read(until: "hello\n")
            let elapsed = ContinuousClock.now - start
            #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(response.hasSuffix("\r\n\r\nhello\n"))
            #expect(elapsed < .seconds(1), "answered after \(elapsed)")
        }
    }

    @Test func pipelinedRequestsSeparatedByEmptyLinesAreAllAnswered() async throws {
        try await Self.withServer { port in
            let client = try RawClient(port: port, receiveTimeout: .seconds(3))
            let start = ContinuousClock.now
            try client.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n")
            let responses = client.read(until: "hello\n", count: 3)
            #expect(occurrences(of: "HTTP/1.1 200 OK\r\n", in: responses) == 3)
            #expect(ContinuousClock.now - start < .seconds(1))
        }
    }
}
