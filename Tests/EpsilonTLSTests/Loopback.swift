import EpsilonTLS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Just enough blocking loopback TCP for the interop tests to put an engine on a socket.
enum Loopback {
    static func listen() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 4) == 0 else { throw TestFailure("bind/listen: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    static func accept(_ listener: Int32, timeoutMilliseconds: Int32 = 15_000) throws -> Int32 {
        guard wait(listener, timeoutMilliseconds) else { throw TestFailure("no connection within \(timeoutMilliseconds) ms") }
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { throw TestFailure("accept: \(errno)") }
        return fd
    }

    static func connect(port: UInt16, attemptsFor seconds: Double = 15) throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = port.bigEndian
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if result == 0 { return fd }
            Glibc.close(fd)
            guard Date() < deadline else { throw TestFailure("cannot connect to port \(port)") }
            usleep(50_000)
        }
    }

    /// A port that was free a moment ago (for peers that must be told where to listen).
    static func freePort() throws -> UInt16 {
        let (fd, port) = try listen()
        Glibc.close(fd)
        return port
    }

    static func wait(_ fd: Int32, _ timeoutMilliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, timeoutMilliseconds) > 0
    }

    static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw TestFailure("send: \(errno)") }
            offset += written
        }
    }

    /// Bytes read, or `nil` at the end of the stream.
    static func read(_ fd: Int32, timeoutMilliseconds: Int32 = 15_000) throws -> [UInt8]? {
        guard wait(fd, timeoutMilliseconds) else { throw TestFailure("no data within \(timeoutMilliseconds) ms") }
        var buffer = [UInt8](repeating: 0, count: 16_384)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 { return nil }
        guard count > 0 else {
            if errno == ECONNRESET { return nil }
            throw TestFailure("recv: \(errno)")
        }
        return Array(buffer[0..<count])
    }

    /// Drives an engine on a socket until `done` says so or the stream ends; returns the plaintext.
    static func drive(_ engine: TLSEngine, on fd: Int32, plaintext: inout [UInt8], until done: ([UInt8]) -> Bool) throws {
        while true {
            let events = try engine.process(into: &plaintext)
            try write(fd, engine.takeOutput())
            if done(plaintext) || events.contains(.closeNotifyReceived) || engine.hasReceivedCloseNotify { return }
            guard let bytes = try read(fd) else {
                engine.receiveEndOfStream()
                try engine.process(into: &plaintext)  // throws .truncated unless close_notify came
                return
            }
            engine.receive(bytes)
        }
    }
}
