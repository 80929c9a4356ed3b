#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP client to 127.0.0.1 with bounded waits, for talking raw HTTP to a server
/// under test (no client library between the test and the bytes).
final class RawSocketClient {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`; `receiveBufferSize` sets `SO_RCVBUF` before connecting
    /// (a small window makes a slow reader's pace reach the server).
    init(port: UInt16, receiveBufferSize: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawSocketError.failed("socket") }
        if var size = receiveBufferSize {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw RawSocketError.failed("connect errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Sends everything (blocking).
    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw RawSocketError.failed("send errno \(errno)") }
            offset += sent
        }
    }

    /// Sends what the kernel takes without blocking; returns how many bytes it took.
    func sendWithoutBlocking(_ bytes: [UInt8]) -> Int {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        return max(0, sent)
    }

    /// Reads what arrives within `timeout`; stops early once `until` says the bytes are complete
    /// or the peer closes. `closed` tells whether the peer closed. Waits by sleeping, never by
    /// blocking a thread, so the server's handler tasks keep the cooperative pool.
    func read(timeout: Duration = .seconds(5), until done: ([UInt8]) -> Bool = { _ in false }) async -> (bytes: [UInt8], closed: Bool) {
        var out: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 0) > 0 {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { return (out, true) }
                if count > 0 {
                    out += buffer[0..<count]
                    if done(out) { return (out, false) }
                    continue
                }
            }
            if ContinuousClock.now >= deadline { return (out, false) }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Reads until `marker` has appeared `count` times (or the timeout, or the close).
    func read(until marker: String, count: Int = 1, timeout: Duration = .seconds(5)) async -> String {
        let result = await read(timeout: timeout) { bytes in
            String(decoding: bytes, as: UTF8.self).components(separatedBy: marker).count - 1 >= count
        }
        return String(decoding: result.bytes, as: UTF8.self)
    }

    /// One non-blocking read of at most `limit` bytes: the bytes (maybe none), or nil once
    /// the peer closed.
    func readNow(limit: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { return nil }
        return Array(buffer[0..<max(0, count)])
    }

    /// Closes with an RST (as a crashed client would).
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
    }
}

enum RawSocketError: Error {
    case failed(String)
}

/// This process's resident memory and open descriptors (Linux /proc).
enum ProcessMetrics {
    static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var size = 0, resident = 0
        guard withUnsafeMutablePointer(to: &size, { sizePointer in
            withUnsafeMutablePointer(to: &resident) { residentPointer in
                withVaList([sizePointer, residentPointer]) { vfscanf(file, "%d %d", $0) }
            }
        }) == 2 else { return 0 }
        return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func openDescriptors() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while readdir(directory) != nil { count += 1 }
        return count - 3   // ".", ".." and the directory's own descriptor
    }
}
