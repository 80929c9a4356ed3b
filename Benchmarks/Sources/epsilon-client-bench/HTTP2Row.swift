// The HTTP/2 row: small GETs to h2o over TLS (ALPN h2), 100 requests multiplexed on one
// connection, EpsilonHTTPClient vs AsyncHTTPClient 1.37.0 and h2load (-c 1 -m 100).
import AsyncHTTPClient
import EpsilonHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// Starts h2o on loopback with a self-signed certificate, measures the three clients for
/// `seconds` each, prints the ratio line and stops h2o.
func runHTTP2Row(seconds: Double) async throws {
    let streams = 100
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("epsilon-client-bench-h2-\(getpid())").path
    for folder in ["www", "logs"] {
        try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o777])
    }
    defer { try? FileManager.default.removeItem(atPath: directory) }
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
    let h2o = Process()
    h2o.executableURL = URL(fileURLWithPath: "/usr/bin/h2o")
    h2o.arguments = ["-c", directory + "/h2o.conf"]
    h2o.standardOutput = FileHandle.nullDevice
    h2o.standardError = FileHandle.nullDevice
    try h2o.run()
    defer {
        h2o.terminate()
        h2o.waitUntilExit()
    }
    let url = "https://localhost:\(port)/hello"
    for _ in 0..<100 {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        probe.arguments = ["-sk", "-o", "/dev/null", url]
        try probe.run()
        probe.waitUntilExit()
        if probe.terminationStatus == 0 { break }
        usleep(50_000)
    }

    var epsilonConfiguration = HTTPClientConfiguration()
    epsilonConfiguration.loopCount = 1
    epsilonConfiguration.decompression = false
    epsilonConfiguration.tls.verification = .none
    let epsilon = EpsilonHTTPClient.HTTPClient(configuration: epsilonConfiguration)

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var ahcConfiguration = AsyncHTTPClient.HTTPClient.Configuration(certificateVerification: .none)
    ahcConfiguration.decompression = .disabled
    let ahc = AsyncHTTPClient.HTTPClient(eventLoopGroupProvider: .shared(group), configuration: ahcConfiguration)

    @Sendable func epsilonGet() async throws {
        let body = try await epsilon.get(url).body.collect(upTo: 1024)
        precondition(body.count == 13)
    }
    @Sendable func ahcGet() async throws {
        let response = try await ahc.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        precondition(response.version == .http2)
        let body = try await response.body.collect(upTo: 1024)
        precondition(body.readableBytes == 13)
    }
    _ = try await rate(of: epsilonGet, loops: streams, seconds: seconds)  // warm-up: connection, caches
    let epsilonRate = try await rate(of: epsilonGet, loops: streams, seconds: seconds)
    precondition(epsilon.poolStatistics.connectionsOpened == 1, "Epsilon used more than one HTTP/2 connection")
    _ = try await rate(of: ahcGet, loops: streams, seconds: seconds)
    let ahcRate = try await rate(of: ahcGet, loops: streams, seconds: seconds)
    let h2loadRate = try h2load(url, streams: streams, seconds: seconds)
    print(String(format: "small GET, HTTP/2 over TLS to h2o, %d multiplexed on 1 connection: Epsilon %.0f req/s, AsyncHTTPClient %.0f req/s, h2load %.0f req/s, ratio vs AsyncHTTPClient %.2fx, vs h2load %.2fx",
                 streams, epsilonRate, ahcRate, h2loadRate, epsilonRate / ahcRate, epsilonRate / h2loadRate))
    try await ahc.shutdown().get()
    try await group.shutdownGracefully()
    await epsilon.shutdown()
}

/// `loops` concurrent loops of `request` for `seconds`; requests per second.
private func rate(of request: @escaping @Sendable () async throws -> Void, loops: Int, seconds: Double) async throws -> Double {
    let start = ContinuousClock.now
    let stop = start + .milliseconds(Int64(seconds * 1000))
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<loops {
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

/// h2load's requests per second: one connection, `streams` concurrent streams, for `seconds`.
private func h2load(_ url: String, streams: Int, seconds: Double) throws -> Double {
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
