import EpsilonTestPeers
import Foundation
import Synchronization

/// A one-connection server on 127.0.0.1 that sends `total` bytes of the pattern as fast as its
/// reader takes them (after an optional HTTP/1.1 response head, once it has read a request head),
/// and counts what the kernel accepted: a reader that stops holds it, and the count shows how
/// much the reader's side buffered. Its send buffer is small, so the count is close to what the
/// reader's side holds (its socket buffer included).
final class BulkSender: Sendable {
    let port: UInt16
    /// Body bytes the kernel has taken so far.
    var sent: Int { shared.sent.load(ordering: .acquiring) }

    /// What the sending thread shares with the test.
    private final class Shared: Sendable {
        let sent = Atomic(0)
        let stop = Atomic(false)
    }

    private let shared = Shared()
    private let listener: Int32

    init(total: Int, http: Bool) throws {
        let (listener, port) = try LoopbackPort.listening(backlog: 1)
        self.port = port
        self.listener = listener
        let shared = self.shared
        Thread.detachNewThread {
            Self.serve(listener: listener, total: total, http: http, sent: shared.sent, stop: shared.stop)
        }
    }

    deinit {
        shared.stop.store(true, ordering: .releasing)
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Waits until the count has not moved for `quiet`, at most `limit`; returns it.
    func settledCount(quiet: Duration = .milliseconds(500), limit: Duration = .seconds(20)) async throws -> Int {
        let end = ContinuousClock.now + limit
        var last = sent
        var stableSince = ContinuousClock.now
        while ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(50))
            let now = sent
            if now != last {
                last = now
                stableSince = ContinuousClock.now
            } else if ContinuousClock.now - stableSince >= quiet {
                return now
            }
        }
        return sent
    }

    private static func serve(listener: Int32, total: Int, http: Bool, sent: borrowing Atomic<Int>, stop: borrowing Atomic<Bool>) {
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { return }
        defer { close(connection) }
        var size: Int32 = 64 * 1024
        setsockopt(connection, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if http {
            // The request head, then the response head.
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while !head.ends(with: Array("\r\n\r\n".utf8)) {
                if stop.load(ordering: .acquiring) || head.count > 64 * 1024 { return }
                let got = recv(connection, &byte, 1, 0)
                if got == 1 { head.append(byte) } else if got == 0 { return }
            }
            let response = Array("HTTP/1.1 200 OK\r\nContent-Length: \(total)\r\n\r\n".utf8)
            guard sendAll(response, on: connection, stop: stop) else { return }
        }
        let block = patternBytes(251 * 256)   // whole pattern periods: every block continues the last
        var offset = 0
        while offset < total && !stop.load(ordering: .acquiring) {
            let count = min(block.count, total - offset)
            let written = block.withUnsafeBytes { send(connection, $0.baseAddress, count, Int32(MSG_NOSIGNAL)) }
            if written > 0 {
                offset += written
                sent.store(offset, ordering: .releasing)
                if written < count {
                    // Continue the pattern where the short write stopped.
                    let rest = Array(block[written..<count])
                    guard sendAll(rest, on: connection, stop: stop) else { return }
                    offset += rest.count
                    sent.store(offset, ordering: .releasing)
                }
            } else if written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                return
            }
        }
        // Hold the connection until the reader has taken everything (or the test ends).
        var scratch: UInt8 = 0
        while !stop.load(ordering: .acquiring) && recv(connection, &scratch, 1, 0) != 0 {}
    }

    private static func sendAll(_ bytes: [UInt8], on connection: Int32, stop: borrowing Atomic<Bool>) -> Bool {
        var offset = 0
        while offset < bytes.count {
            if stop.load(ordering: .acquiring) { return false }
            let written = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written > 0 {
                offset += written
            } else if written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                return false
            }
        }
        return true
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
