// The client side of Benchmarks/load that wrk does not cover, on plain blocking sockets:
//   epsilon-load-client latency PORT [REQUESTS] [MAX_SECONDS]
//       one keep-alive connection, one request at a time; prints p50/p90/p99/max in µs.
//   epsilon-load-client idle PORT CONNECTIONS HOLD_SECONDS
//       opens CONNECTIONS keep-alive connections, one request and response on each (so the
//       server has accepted and served every one), prints "ready N", holds them HOLD_SECONDS
//       (or until stdin closes), then resets them (SO_LINGER 0: no TIME_WAIT left behind).
// Loopback only; every loop is bounded in count and time.
import Foundation
import Glibc

let request = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: epsilon-load-client\r\n\r\n".utf8)

func fail(_ message: String) -> Never {
    print("epsilon-load-client: \(message) (errno \(errno))")
    exit(1)
}

func monotonic() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

func connectLoopback(_ port: UInt16) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { fail("socket") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard result == 0 else { fail("connect to 127.0.0.1:\(port)") }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

/// Sends one request and reads exactly one response (head + Content-Length body).
func roundTrip(_ fd: Int32, _ buffer: inout [UInt8]) {
    let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    guard sent == request.count else { fail("send") }
    var have = 0
    var needed = Int.max
    while have < needed {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + have, $0.count - have, 0) }
        guard n > 0 else { fail("recv (server closed or timed out)") }
        have += n
        if needed == Int.max, let end = headEnd(buffer, have) {
            needed = end + contentLength(buffer, end)
        }
        guard have < buffer.count || have >= needed else { fail("response larger than the buffer") }
    }
}

func headEnd(_ b: [UInt8], _ count: Int) -> Int? {
    guard count >= 4 else { return nil }
    for i in 0...(count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i + 4 }
    return nil
}

func contentLength(_ b: [UInt8], _ end: Int) -> Int {
    let head = String(decoding: b[0..<end], as: UTF8.self).lowercased()
    guard let range = head.range(of: "\r\ncontent-length:") else { fail("response without Content-Length") }
    let digits = head[range.upperBound...].drop(while: { $0 == " " }).prefix(while: { $0.isNumber })
    return Int(digits) ?? 0
}

func reset(_ fd: Int32) {
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    close(fd)
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let port = UInt16(arguments[2]) else {
    print("usage: epsilon-load-client latency PORT [REQUESTS] [MAX_SECONDS] | idle PORT CONNECTIONS HOLD_SECONDS")
    exit(2)
}
var buffer = [UInt8](repeating: 0, count: 1 << 16)

switch arguments[1] {
case "latency":
    let requests = arguments.count > 3 ? Int(arguments[3])! : 20_000
    let maxSeconds = arguments.count > 4 ? Double(arguments[4])! : 20
    let fd = connectLoopback(port)
    for _ in 0..<1000 { roundTrip(fd, &buffer) }  // warm-up
    var samples: [UInt64] = []
    samples.reserveCapacity(requests)
    let deadline = monotonic() + UInt64(maxSeconds * 1e9)
    while samples.count < requests && monotonic() < deadline {
        let start = monotonic()
        roundTrip(fd, &buffer)
        samples.append(monotonic() - start)
    }
    reset(fd)
    samples.sort()
    func at(_ p: Double) -> String {
        let value = Double(samples[min(samples.count - 1, Int(Double(samples.count) * p))]) / 1000
        return value < 100 ? String(format: "%.1f", value) : String(format: "%.0f", value)
    }
    print("requests \(samples.count) p50 \(at(0.50)) p90 \(at(0.90)) p99 \(at(0.99)) max \(at(1.0)) us")
case "idle":
    guard arguments.count >= 5, let count = Int(arguments[3]), let hold = Double(arguments[4]) else { fail("idle needs CONNECTIONS HOLD_SECONDS") }
    var fds: [Int32] = []
    fds.reserveCapacity(count)
    let deadline = monotonic() + 120_000_000_000
    while fds.count < count {
        guard monotonic() < deadline else { fail("opened only \(fds.count) connections in 120 s") }
        let fd = connectLoopback(port)
        roundTrip(fd, &buffer)
        fds.append(fd)
    }
    print("ready \(fds.count)")
    fflush(nil)
    // Hold until the time is up or stdin closes (the script closes it once it has read RSS).
    var pending = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
    _ = poll(&pending, 1, Int32(hold * 1000))
    // Check every connection is still open (a closed one reads 0 at once).
    var open = 0
    for fd in fds {
        var probe = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if poll(&probe, 1, 0) == 0 { open += 1 }
    }
    for fd in fds { reset(fd) }
    print("still open \(open)")
default:
    fail("unknown mode \(arguments[1])")
}
