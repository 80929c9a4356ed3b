import ArgumentParser
import EpsilonHTTPClient
import EpsilonTLS
import Foundation
import HTTPTypes

/// What `epsilon get` and `epsilon post` share: a small curl.
struct ClientOptions: ParsableArguments {
    @Argument(help: "The URL (http:// or https://).")
    var url: String

    @Option(name: .customShort("H"), help: "A header field, \"Name: value\" (repeatable).")
    var header: [String] = []

    @Option(name: .shortAndLong, help: "Write the body to this file instead of standard output.")
    var output: String?

    @Flag(name: .customLong("http1.1"), help: "Use HTTP/1.1 only (default: HTTP/2 when the server agrees by ALPN over TLS).")
    var http11 = false

    @Flag(name: .customLong("http2"), help: "Use HTTP/2 only (h2c with prior knowledge for http://).")
    var http2 = false

    @Flag(name: .shortAndLong, help: "Print the request and response heads on standard error.")
    var verbose = false

    @Flag(name: .customShort("L"), help: "Follow redirects (up to 10).")
    var location = false

    @Option(help: "Trust these CA certificates (PEM) instead of the system store.")
    var cacert: String?

    @Flag(name: .shortAndLong, help: "Do not verify the server's certificate (testing only).")
    var insecure = false

    @Option(help: "Give up after this many seconds (whole request).")
    var maxTime: Double?

    func validate() throws {
        if http2 && http11 { throw ValidationError("--http1.1 and --http2 exclude each other") }
        for field in header where !field.contains(":") { throw ValidationError("-H \(field): expected \"Name: value\"") }
    }

    func configuration() throws -> HTTPClientConfiguration {
        var configuration = HTTPClientConfiguration()
        configuration.redirectPolicy = location ? .follow : .disabled
        configuration.retryPolicy = .disabled
        configuration.httpVersion = http2 ? .http2 : http11 ? .http1Only : .automatic
        if let cacert {
            do {
                configuration.tls.trustRoots = try .bundle(file: cacert)
            } catch {
                throw ValidationError("--cacert \(cacert): \(error)")
            }
        }
        if insecure { configuration.tls.verification = .none }
        if let maxTime { configuration.timeouts.request = .milliseconds(Int64(maxTime * 1000)) }
        return configuration
    }

    func fields() -> [(String, String)] {
        header.map { field in
            let colon = field.firstIndex(of: ":")!
            return (String(field[..<colon]).trimmingCharacters(in: .whitespaces),
                    String(field[field.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
    }

    /// Sends the request, prints heads when verbose, writes the body. Like curl without `-f`, the
    /// body is written whatever the status; a failed request exits with 7 and its error.
    func run(method: HTTPRequest.Method, body: [UInt8]?, contentType: String?) async throws {
        let client = HTTPClient(configuration: try configuration())
        defer { Task { await client.shutdown() } }
        var headers: [String: String] = [:]
        for (name, value) in fields() { headers[name] = value }
        if let contentType, !headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
            headers["Content-Type"] = contentType
        }
        let standardError = FileHandle.standardError
        do {
            let request = try client.request(method, url, headers: headers)
            if verbose {
                var lines = "> \(method.rawValue) \(request.path ?? "/") HTTP/1.1\n> Host: \(request.authority ?? "")\n"
                for field in request.headerFields { lines += "> \(field.name.rawName): \(field.value)\n" }
                standardError.write(Data((lines + ">\n").utf8))
            }
            let response = try await client.execute(request, body: body.map { .bytes($0) })
            if verbose {
                var lines = "< HTTP/1.1 \(response.status.code) \(response.status.reasonPhrase)\n"
                for field in response.headerFields { lines += "< \(field.name.rawName): \(field.value)\n" }
                standardError.write(Data((lines + "<\n").utf8))
            }
            try await write(response)
        } catch let error as HTTPClientError {
            standardError.write(Data("epsilon: \(error)\n".utf8))
            throw ExitCode(7)
        }
    }

    private func write(_ response: HTTPClientResponse) async throws {
        let sink: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil), let handle = FileHandle(forWritingAtPath: output) else {
                throw ValidationError("cannot write \(output)")
            }
            sink = handle
        } else {
            sink = FileHandle.standardOutput
        }
        defer { if output != nil { try? sink.close() } }
        let total = response.headerFields[.contentLength].flatMap { Int($0) }
        var progress = output != nil && isatty(2) == 1 ? DownloadProgress(total: total) : nil
        for try await chunk in response.body {
            try sink.write(contentsOf: chunk)
            progress?.advance(by: chunk.count)
        }
        progress?.finish()
    }
}

/// A one-line progress bar on standard error, redrawn at most ten times a second.
struct DownloadProgress {
    let total: Int?
    var received = 0
    var lastDraw = ContinuousClock.now
    let start = ContinuousClock.now

    init(total: Int?) { self.total = total }

    mutating func advance(by count: Int) {
        received += count
        let now = ContinuousClock.now
        guard now - lastDraw >= .milliseconds(100) else { return }
        lastDraw = now
        draw()
    }

    func finish() {
        draw()
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func draw() {
        let seconds = max(0.001, Double((ContinuousClock.now - start).components.attoseconds) / 1e18
                          + Double((ContinuousClock.now - start).components.seconds))
        let rate = String(format: "%.1f MiB/s", Double(received) / seconds / 1_048_576)
        let line: String
        if let total, total > 0 {
            let fraction = min(1, Double(received) / Double(total))
            let filled = Int(fraction * 30)
            line = "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: 30 - filled)
                + "] " + String(format: "%5.1f%%", fraction * 100) + " \(received)/\(total) B " + rate
        } else {
            line = "\r\(received) B " + rate
        }
        FileHandle.standardError.write(Data(line.utf8))
    }
}

struct ClientGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Fetches a URL with Epsilon's HTTP client and writes the body (like a small curl)."
    )

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await options.run(method: .get, body: nil, contentType: nil)
    }
}

struct ClientPost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "post",
        abstract: "Posts data to a URL with Epsilon's HTTP client and writes the response body."
    )

    @OptionGroup var options: ClientOptions

    @Option(name: .shortAndLong, help: "The body; @FILE reads it from a file, @- from standard input.")
    var data: String?

    @Option(help: "A JSON body (sent with Content-Type: application/json); @FILE reads it from a file.")
    var json: String?

    func validate() throws {
        if data != nil && json != nil { throw ValidationError("-d and --json go one at a time") }
    }

    func run() async throws {
        let text = data ?? json
        var body: [UInt8] = []
        if let text {
            if text.hasPrefix("@") {
                body = try readInput(String(text.dropFirst()))
            } else {
                body = Array(text.utf8)
            }
        }
        try await options.run(method: .post, body: body,
                              contentType: json != nil ? "application/json" : "application/x-www-form-urlencoded")
    }
}
