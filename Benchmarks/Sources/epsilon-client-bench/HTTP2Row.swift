// The HTTP/2 row: small GETs to h2o over TLS (ALPN h2), 100 requests multiplexed on one
// connection, EpsilonHTTPClient vs AsyncHTTPClient 1.37.0 and h2load (-c 1 -m 100).
//
//   epsilon-client-bench --rows http2 [--seconds 5] [--rounds 3]
//       the ratio line: rounds of Epsilon, AsyncHTTPClient and h2load taken in turn, each client
//       warmed up first; medians with the range, CPU time per request, the load average
//   epsilon-client-bench --rows http2 --serve SECONDS
//       only starts h2o and prints its URL (for the next form under `perf stat`)
//   epsilon-client-bench --rows http2 --client epsilon|ahc --requests N --url URL
//       N requests, 100 in flight, against a running h2o; prints time and CPU
//
// h2o runs under a shell that kills it when this program's end closes its standard input, so no
// h2o outlives the benchmark, even one that crashed.
import AsyncHTTPClient
import EpsilonHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization

private let streams = 100

func runHTTP2Row(seconds: Double) async throws {
    let arguments = CommandLine.arguments
    func value(_ name: String) -> String? {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }
    if let serve = value("--serve").flatMap(Double.init) {
        let h2o = try H2OServer.start()
        FileHandle.standardOutput.write(Data("h2o at \(h2o.url) for \(Int(serve)) s\n".utf8))
        try await Task.sleep(for: .milliseconds(Int64(serve * 1000)))
        h2o.stop()
        return
    }
    if let client = value("--client"), let requests = value("--requests").flatMap(Int.init), let url = value("--url") {
        let clients = HTTP2RowClients(url: url)
        let get = client == "ahc" ? clients.ahcGet : clients.epsilonGet
        let (elapsed, cpu) = try await fixedCount(of: get, requests: requests)
        print("\(client): " + String(format: "%d requests in %.2f s, %.0f req/s, CPU %.2f s, %.1f µs CPU per request",
                                     requests, elapsed, Double(requests) / elapsed, cpu, cpu / Double(requests) * 1e6))
        try await clients.shutdown()
        return
    }
    let rounds = value("--rounds").flatMap(Int.init) ?? 3
    let h2o = try H2OServer.start()
    defer { h2o.stop() }
    let clients = HTTP2RowClients(url: h2o.url)
    var epsilon: [Measured] = []
    var ahc: [Measured] = []
    var h2load: [Double] = []
    _ = try await rate(of: clients.epsilonGet, seconds: min(seconds, 2))  // warm-up: connection, caches
    _ = try await rate(of: clients.ahcGet, seconds: min(seconds, 2))
    for _ in 0..<rounds {
        epsilon.append(try await rate(of: clients.epsilonGet, seconds: seconds))
        ahc.append(try await rate(of: clients.ahcGet, seconds: seconds))
        h2load.append(try h2loadRate(h2o.url, seconds: seconds))
    }
    precondition(clients.epsilon.poolStatistics.connectionsOpened == 1, "Epsilon used more than one HTTP/2 connection")
    try await clients.shutdown()
    let versusAHC = zip(epsilon, ahc).map { $0.perSecond / $1.perSecond }
    let versusH2load = zip(epsilon, h2load).map { $0.perSecond / $1 }
    print(String(format: "small GET, HTTP/2 over TLS to h2o (1 thread), %d multiplexed on 1 connection, %d rounds of %.0f s:",
                 streams, rounds, seconds))
    print("  Epsilon " + spread(epsilon.map(\.perSecond), "%.0f") + " req/s, " + spread(epsilon.map(\.cpuPerRequest), "%.1f") + " µs CPU/request")
    print("  AsyncHTTPClient " + spread(ahc.map(\.perSecond), "%.0f") + " req/s, " + spread(ahc.map(\.cpuPerRequest), "%.1f") + " µs CPU/request")
    print("  h2load " + spread(h2load, "%.0f") + " req/s")
    print("  epsilon/ahc " + spread(versusAHC, "%.2f") + "x, epsilon/h2load " + spread(versusH2load, "%.2f")
          + "x (median, min-max of rounds); load average " + loadAverage())
}

/// Requests per second and the process's CPU time per request (both client loops run here;
/// h2o and h2load are other processes).
private struct Measured {
    var perSecond: Double
    var cpuPerRequest: Double
}

/// Both clients, one event loop thread each, certificate checks off (h2o's is self-signed).
private struct HTTP2RowClients {
    let epsilon: EpsilonHTTPClient.HTTPClient
    let group: MultiThreadedEventLoopGroup
    let ahc: AsyncHTTPClient.HTTPClient
    let epsilonGet: @Sendable () async throws -> Void
    let ahcGet: @Sendable () async throws -> Void

    init(url: String) {
        var epsilonConfiguration = HTTPClientConfiguration()
        epsilonConfiguration.loopCount = 1
        epsilonConfiguration.decompression = false
        epsilonConfiguration.tls.verification = .none
        let epsilon = EpsilonHTTPClient.HTTPClient(configuration: epsilonConfiguration)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var ahcConfiguration = AsyncHTTPClient.HTTPClient.Configuration(certificateVerification: .none)
        ahcConfiguration.decompression = .disabled
        let ahc = AsyncHTTPClient.HTTPClient(eventLoopGroupProvider: .shared(group), configuration: ahcConfiguration)
        self.epsilon = epsilon
        self.ahc = ahc
        epsilonGet = {
            let response = try await epsilon.get(url)
            precondition(response.protocolVersion == .http2)
            let body = try await response.body.collect(upTo: 1024)
            precondition(body.count == 13)
        }
        ahcGet = {
            let response = try await ahc.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            precondition(response.version == .http2)
            let body = try await response.body.collect(upTo: 1024)
            precondition(body.readableBytes == 13)
        }
    }

    func shutdown() async throws {
        try await ahc.shutdown().get()
        try await group.shutdownGracefully()
        await epsilon.shutdown()
    }
}

/// h2o on a free loopback port with a self-signed certificate, one thread, serving /hello.
private struct H2OServer {
    let process: GuardedServer
    let url: String

    static func start() throws -> H2OServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("epsilon-client-bench-h2-\(getpid())").path
        for folder in ["www", "logs"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o777])
        }
        try "Hello, World!".write(toFile: directory + "/www/hello", atomically: true, encoding: .utf8)
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                             "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem", "-days", "1",
                             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        let port = freePort()
        let configuration = """
            listen:
              host: 127.0.0.1
              port: \(port)
              ssl:
                certificate-file: \(directory)/cert.pem
                key-file: \(directory)/key.pem
            num-threads: 1
            pid-file: \(directory)/logs/h2o.pid
            error-log: \(directory)/logs/error.log
            http2-max-concurrent-requests-per-connection: \(streams)
            hosts:
              "localhost:\(port)":
                paths:
                  "/":
                    file.dir: \(directory)/www
            """
        try configuration.write(toFile: directory + "/h2o.conf", atomically: true, encoding: .utf8)
        let url = "https://localhost:\(port)/hello"
        let process = try GuardedServer.start(command: "/usr/bin/h2o -c \"$1/h2o.conf\"", directory: directory,
                                              probeURL: url, curlOptions: ["-k"])
        return H2OServer(process: process, url: url)
    }

    func stop() { process.stop() }
}

/// `streams` concurrent loops of `request` for `seconds`.
private func rate(of request: @escaping @Sendable () async throws -> Void, seconds: Double) async throws -> Measured {
    let start = ContinuousClock.now
    let cpuStart = processCPUSeconds()
    let stop = start + .milliseconds(Int64(seconds * 1000))
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<streams {
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
    let elapsed = (ContinuousClock.now - start).seconds
    return Measured(perSecond: Double(total) / elapsed, cpuPerRequest: (processCPUSeconds() - cpuStart) / Double(total) * 1e6)
}

/// `requests` requests, `streams` in flight; the elapsed time and the process's CPU seconds.
private func fixedCount(of request: @escaping @Sendable () async throws -> Void, requests: Int) async throws -> (Double, Double) {
    let start = ContinuousClock.now
    let cpuStart = processCPUSeconds()
    let left = RequestsLeft(requests)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<streams {
            group.addTask {
                while left.take() { try await request() }
            }
        }
        try await group.waitForAll()
    }
    return ((ContinuousClock.now - start).seconds, processCPUSeconds() - cpuStart)
}

/// The requests still to send, shared by the loops.
private final class RequestsLeft: Sendable {
    private let count: Atomic<Int>
    init(_ count: Int) { self.count = Atomic(count) }
    /// Whether one was left (and is now taken).
    func take() -> Bool { count.subtract(1, ordering: .relaxed).oldValue > 0 }
}

/// h2load's requests per second: one connection, `streams` concurrent streams, for `seconds`.
private func h2loadRate(_ url: String, seconds: Double) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/h2load")
    process.arguments = ["-c", "1", "-m", String(streams), "-t", "1", "-D", String(Int(seconds)), url]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    // "finished in 5.00s, 81234.40 req/s, 3.10MB/s"
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("finished in") }),
          let field = line.split(separator: ",").dropFirst().first,
          let value = Double(field.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") else { return 0 }
    return value
}

/// User and system CPU seconds of this process, every thread included.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// "median (min-max)" of `values`, each printed with `format`.
private func spread(_ values: [Double], _ format: String) -> String {
    let sorted = values.sorted()
    guard let low = sorted.first, let high = sorted.last else { return "-" }
    let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    return String(format: format, median) + " (" + String(format: format, low) + "-" + String(format: format, high) + ")"
}

/// The 1, 5 and 15 minute load averages.
func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
