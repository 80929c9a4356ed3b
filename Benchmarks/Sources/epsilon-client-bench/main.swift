// EpsilonHTTPClient against AsyncHTTPClient 1.37.0 (and curl for the download), on a loopback
// nginx this program starts with a configuration in a temporary folder. Both clients get one
// event loop thread; nginx one worker. Prints one ratio line per row.
//
//   swift run -c release --package-path Benchmarks epsilon-client-bench [--seconds 5] [--gib 1]
//       [--rows http1,download,http2] [--rounds 1]
// --rounds N measures each chosen HTTP/1.1 row N times, the clients interleaved, and prints every
// round and the spread. For instruction counts (callgrind), `--count epsilon|ahc --requests N`
// only makes N small GETs (64 concurrent) with one client after one request per connection:
//   valgrind --tool=callgrind epsilon-client-bench --count epsilon --requests 20000
// `--rows http2` alone runs only the HTTP/2 row (see HTTP2Row.swift for its --serve and --client forms).
import AsyncHTTPClient
import EpsilonHTTPClient
import Foundation
import NIOCore
import NIOPosix

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Double) -> Double {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Double(arguments[index + 1]) else {
        return fallback
    }
    return value
}
func textOption(_ name: String, _ fallback: String) -> String {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return arguments[index + 1]
}
let seconds = option("--seconds", 5)
let rows = Set(textOption("--rows", "http1,download,http2").split(separator: ",").map(String.init))
let rounds = max(1, Int(option("--rounds", 1)))
let countClient = textOption("--count", "")
let countRequests = Int(option("--requests", 20_000))
let downloadBytes = Int(option("--gib", 1) * 1_073_741_824)
let concurrency = 64

// `--rows http2`: only the HTTP/2 row (h2o, started and stopped by the row itself).
if let index = arguments.firstIndex(of: "--rows"), index + 1 < arguments.count, arguments[index + 1] == "http2" {
    try await runHTTP2Row(seconds: seconds)
    exit(0)
}

// MARK: nginx on loopback

func freePort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return UInt16(bigEndian: address.sin_port)
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("epsilon-client-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: directory + "/www", withIntermediateDirectories: true)
try "Hello, World!".write(toFile: directory + "/www/hello", atomically: true, encoding: .utf8)
_ = FileManager.default.createFile(atPath: directory + "/www/big", contents: nil)
let big = FileHandle(forWritingAtPath: directory + "/www/big")!
try big.truncate(atOffset: UInt64(downloadBytes))   // sparse: nginx reads zeros from the page cache
try big.close()
let port = freePort()
let configuration = """
    worker_processes 1;
    daemon off;
    pid \(directory)/nginx.pid;
    error_log \(directory)/error.log;
    events { worker_connections 4096; }
    http {
        access_log off;
        keepalive_requests 100000000;
        keepalive_timeout 120s;
        sendfile on;
        server {
            listen 127.0.0.1:\(port);
            root \(directory)/www;
            location / { }
        }
    }
    """
try configuration.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
let nginx = Process()
nginx.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
nginx.arguments = ["-c", directory + "/nginx.conf", "-p", directory, "-e", directory + "/error.log"]
try nginx.run()
defer {
    nginx.terminate()
    nginx.waitUntilExit()
    try? FileManager.default.removeItem(atPath: directory)
}
let base = "http://127.0.0.1:\(port)"
// Wait for nginx to listen.
for _ in 0..<100 {
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    probe.arguments = ["-s", "-o", "/dev/null", base + "/hello"]
    try probe.run()
    probe.waitUntilExit()
    if probe.terminationStatus == 0 { break }
    usleep(50_000)
}

// MARK: Load loops

/// Runs `concurrency` loops of `request` for `seconds`; returns requests per second.
func requestsPerSecond(_ request: @escaping @Sendable () async throws -> Void) async throws -> Double {
    let stop = ContinuousClock.now + .seconds(seconds)
    let start = ContinuousClock.now
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var count = 0
                while ContinuousClock.now < stop {
                    try await request()
                    count += 1
                }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = ContinuousClock.now - start
    return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func elapsedSeconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

var epsilonConfiguration = HTTPClientConfiguration()
epsilonConfiguration.loopCount = 1
epsilonConfiguration.pool.maxConnectionsPerHost = concurrency
epsilonConfiguration.decompression = false
let epsilon = EpsilonHTTPClient.HTTPClient(configuration: epsilonConfiguration)

let nioGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
var ahcConfiguration = AsyncHTTPClient.HTTPClient.Configuration()
ahcConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
ahcConfiguration.decompression = .disabled
let ahc = AsyncHTTPClient.HTTPClient(eventLoopGroupProvider: .shared(nioGroup), configuration: ahcConfiguration)

let hello = base + "/hello"
@Sendable func epsilonGet() async throws {
    let body = try await epsilon.get(hello).body.collect(upTo: 1024)
    precondition(body.count == 13)
}
@Sendable func ahcGet() async throws {
    let response = try await ahc.execute(HTTPClientRequest(url: hello), timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 1024)
    precondition(body.readableBytes == 13)
}

/// Makes `total` requests, `concurrency` at a time.
func fixedCount(_ total: Int, _ request: @escaping @Sendable () async throws -> Void) async throws {
    let perTask = total / concurrency
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask { for _ in 0..<perTask { try await request() } }
        }
        try await group.waitForAll()
    }
}

func spread(_ values: [Double]) -> String {
    String(format: "min %.2f, median %.2f, max %.2f", values.min()!, values.sorted()[values.count / 2], values.max()!)
}

if !countClient.isEmpty {
    let request = countClient == "ahc" ? ahcGet : epsilonGet
    try await fixedCount(concurrency, request)   // opens the connections
    try await fixedCount(countRequests, request)
    print("\(countClient): \(countRequests + concurrency) small GETs done")
} else {
    print("EpsilonHTTPClient vs AsyncHTTPClient 1.37.0, nginx on 127.0.0.1 (1 worker), 1 client loop each, \(Int(seconds)) s per figure")
    if rows.contains("http1") { try await runSmallGETRow() }
    if rows.contains("download") { try await runDownloadRow() }
    if rows.contains("http2") { try await runHTTP2Row(seconds: seconds) }
}
try await ahc.shutdown().get()
try await nioGroup.shutdownGracefully()
await epsilon.shutdown()

// Small GETs, HTTP/1.1 keep-alive, 64 concurrent.
func runSmallGETRow() async throws {
    _ = try await requestsPerSecond(epsilonGet)      // warm-up: connections, caches
    _ = try await requestsPerSecond(ahcGet)
    var ratios: [Double] = []
    for round in 1...rounds {
        let epsilonRate = try await requestsPerSecond(epsilonGet)
        let ahcRate = try await requestsPerSecond(ahcGet)
        ratios.append(epsilonRate / ahcRate)
        let label = rounds > 1 ? " (round \(round))" : ""
        print("small GET, HTTP/1.1 keep-alive, \(concurrency) concurrent\(label): "
              + String(format: "Epsilon %.0f req/s, AsyncHTTPClient %.0f req/s, ratio %.2fx", epsilonRate, ahcRate, epsilonRate / ahcRate))
    }
    if rounds > 1 { print("small GET ratio over \(rounds) rounds: " + spread(ratios)) }
}

// A large download, one stream. The sparse file is read once first, so every client finds it in
// the page cache (the first reader of a hole pays for zeroing its pages).
func runDownloadRow() async throws {
    let bigURL = base + "/big"
    let mib = Double(downloadBytes) / 1_048_576
    func curlSpeed() throws -> Double {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-o", "/dev/null", "-w", "%{speed_download}", bigURL]
        let output = Pipe()
        curl.standardOutput = output
        try curl.run()
        curl.waitUntilExit()
        return Double(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) ?? 0
    }
    _ = try curlSpeed()
    var versusCurl: [Double] = []
    var versusAHC: [Double] = []
    for round in 1...rounds {
        // Off the main actor, as a server or tool reading a body would be.
        let epsilonDownload = try await Task.detached {
            try await elapsedSeconds {
                var received = 0
                for try await chunk in try await epsilon.get(bigURL).body { received += chunk.count }
                precondition(received == downloadBytes)
            }
        }.value
        let ahcDownload = try await Task.detached {
            try await elapsedSeconds {
                let response = try await ahc.execute(HTTPClientRequest(url: bigURL), timeout: .seconds(600))
                var received = 0
                for try await buffer in response.body { received += buffer.readableBytes }
                precondition(received == downloadBytes)
            }
        }.value
        let curlRate = try curlSpeed()
        let epsilonMiBs = mib / epsilonDownload
        let ahcMiBs = mib / ahcDownload
        let curlMiBs = curlRate / 1_048_576
        versusCurl.append(epsilonMiBs / curlMiBs)
        versusAHC.append(epsilonMiBs / ahcMiBs)
        let label = rounds > 1 ? " (round \(round))" : ""
        print("download \(Int(mib)) MiB\(label): "
              + String(format: "Epsilon %.0f MiB/s, AsyncHTTPClient %.0f MiB/s, curl %.0f MiB/s, ratio vs curl %.2fx, vs AsyncHTTPClient %.2fx",
                       epsilonMiBs, ahcMiBs, curlMiBs, epsilonMiBs / curlMiBs, epsilonMiBs / ahcMiBs))
    }
    if rounds > 1 {
        print("download ratio vs curl over \(rounds) rounds: " + spread(versusCurl))
        print("download ratio vs AsyncHTTPClient over \(rounds) rounds: " + spread(versusAHC))
    }
}
