// EpsilonHTTPClient against AsyncHTTPClient 1.37.0 (and curl for the download), on a loopback
// nginx this program starts with a configuration in a temporary folder. Both clients get one
// event loop thread; nginx one worker. Prints one ratio line per row.
//
//   swift run -c release --package-path Benchmarks epsilon-client-bench [--seconds 5] [--gib 1]
//       [--rows http1,download,http2] [--rounds 1]
// --rounds N measures each chosen HTTP/1.1 row N times, the clients interleaved, and prints every
// round and the spread. For instruction counts (callgrind), `--count epsilon|ahc --requests N`
// only makes N small GETs (64 concurrent) with one client after one request per connection,
// against a server started apart (valgrind breaks Foundation's process spawning):
//   epsilon-client-bench --serve 600 &        # prints the URL
//   valgrind --tool=callgrind epsilon-client-bench --count epsilon --requests 20000 --url URL
// `--rows http2` alone runs only the HTTP/2 row (see HTTP2Row.swift for its --serve and --client forms).
//
// nginx answers /hello from memory (`return 200`), not from a file, so the small-GET row measures
// the clients, not nginx's file path (see NginxServer.swift). /big stays a file, for the download row.
import AsyncHTTPClient
import EpsilonHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization

let arguments = CommandLine.arguments
let usage = """
    usage: epsilon-client-bench [--seconds S] [--gib G] [--rows http1,download,http2] [--rounds N]
           epsilon-client-bench --serve S
           epsilon-client-bench --count epsilon|ahc [--requests N] [--url URL]
           epsilon-client-bench --rows http2 --serve S
           epsilon-client-bench --rows http2 --client epsilon|ahc --requests N --url URL
      --seconds S   seconds per figure (default 5)
      --gib G       size of the download row's file in GiB (default 1)
      --rows LIST   rows to run: http1 (small GETs, 64 concurrent), download, http2 (default: all)
      --rounds N    rounds per row, the clients interleaved; prints the spread (default 1)
      --count C     only make --requests small GETs with client C (for callgrind or perf),
                    to --url if given (else to an nginx started here)
      --serve S     run nginx (with --rows http2: h2o) alone for S seconds and print its URL
      --client C    (http2) make --requests GETs to --url with client C
    """
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
// Every option takes a value; anything else is a mistake, not a reason to run for minutes.
let knownOptions: Set = ["--seconds", "--gib", "--rows", "--rounds", "--count", "--requests", "--serve", "--client", "--url"]
var argumentIndex = 1
while argumentIndex < arguments.count {
    guard knownOptions.contains(arguments[argumentIndex]), argumentIndex + 1 < arguments.count else {
        FileHandle.standardError.write(Data("epsilon-client-bench: unexpected argument \(arguments[argumentIndex])\n\(usage)\n".utf8))
        exit(2)
    }
    argumentIndex += 2
}
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
    blockingRun { try await runHTTP2Row(seconds: seconds) }
    exit(0)
}

// MARK: nginx on loopback (NginxServer.swift)

// `--serve S`: nginx alone for S seconds (for `--count … --url` under valgrind, which cannot
// start processes from Foundation).
if let serve = Double(textOption("--serve", "")) {
    let server = try NginxServer.start(downloadBytes: downloadBytes)
    print("nginx at \(server.base)/hello for \(Int(serve)) s")
    usleep(UInt32(serve * 1_000_000))
    server.stop()
    exit(0)
}
let givenURL = textOption("--url", "")
let server = givenURL.isEmpty ? try NginxServer.start(downloadBytes: downloadBytes) : nil
defer { server?.stop() }
let base = server?.base ?? ""

// MARK: Load loops

/// Runs `concurrency` loops of `request` for `seconds`; returns requests per second.
func requestsPerSecond(_ request: @escaping @Sendable () async throws -> Void) async throws -> Double {
    try await measuredRate(request).perSecond
}

/// Runs `concurrency` loops of `request` for `seconds`; returns requests per second and this
/// process's CPU time per request in µs (`getrusage`: the client's loop and tasks; nginx is
/// another process).
func measuredRate(_ request: @escaping @Sendable () async throws -> Void) async throws -> (perSecond: Double, cpuPerRequest: Double) {
    let cpuStart = processCPUSeconds()
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
    let cpu = (processCPUSeconds() - cpuStart) / Double(total) * 1e6
    return (Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18), cpu)
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

let hello = givenURL.isEmpty ? base + "/hello" : givenURL
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

blockingRun {
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
}

/// Runs `body` on the cooperative pool and blocks the main thread until it ends. The top level
/// stays synchronous, so the main thread never enters `dispatch_main`, whose `sigsuspend`
/// valgrind 3.19 cannot run (it writes to the read-only mask libdispatch passes, and dies).
func blockingRun(_ body: @escaping @Sendable () async throws -> Void) {
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
    Task.detached {
        do {
            try await body()
        } catch {
            failure.withLock { $0 = "\(error)" }
        }
        done.signal()
    }
    done.wait()
    if let failure = failure.withLock({ $0 }) { fatalError(failure) }
}

// Small GETs, HTTP/1.1 keep-alive, 64 concurrent.
func runSmallGETRow() async throws {
    _ = try await requestsPerSecond(epsilonGet)      // warm-up: connections, caches
    _ = try await requestsPerSecond(ahcGet)
    var ratios: [Double] = []
    var cpuRatios: [Double] = []
    for round in 1...rounds {
        let epsilon = try await measuredRate(epsilonGet)
        let ahc = try await measuredRate(ahcGet)
        ratios.append(epsilon.perSecond / ahc.perSecond)
        cpuRatios.append(ahc.cpuPerRequest / epsilon.cpuPerRequest)
        let label = rounds > 1 ? " (round \(round))" : ""
        print("small GET, HTTP/1.1 keep-alive, \(concurrency) concurrent\(label): "
              + String(format: "Epsilon %.0f req/s (%.1f µs CPU/request), AsyncHTTPClient %.0f req/s (%.1f µs CPU/request), ratio %.2fx",
                       epsilon.perSecond, epsilon.cpuPerRequest, ahc.perSecond, ahc.cpuPerRequest, epsilon.perSecond / ahc.perSecond))
    }
    if rounds > 1 {
        print("small GET ratio over \(rounds) rounds: " + spread(ratios) + "; load average " + loadAverage())
        print("small GET CPU per request, AsyncHTTPClient/Epsilon, over \(rounds) rounds: " + spread(cpuRatios))
    }
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
