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

    @Flag(name: .shortAndLong, help: "Print the request and response heads on standard error, with the protocol used (\"> GET /path HTTP/2\", \"< HTTP/2 200\" over HTTP/2, as curl does).")
    var verbose = false

    @Flag(name: .customShort("L"), help: "Follow redirects (up to 10).")
    var location = false

    @Option(help: "Trust these CA certificates (PEM) instead of the system store.")
    var cacert: String?

    @Flag(name: .shortAndLong, help: "Do not verify the server's certificate (testing only).")
    var insecure = false

    @Option(help: "Give up after this many seconds (whole request).")
    var maxTime: Double?

    @Option(help: "Send requests through this HTTP proxy, http://[user:password@]host:port (https:// URLs through a CONNECT tunnel).")
    var proxy: String?

    @Option(help: "A client certificate (PEM or DER, chain allowed), sent when the server asks for one; needs --key.")
    var cert: String?

    @Option(help: "The private key of --cert (PEM or DER).")
    var key: String?

    @Flag(name: .customLong("tlsv1.3"), help: "Require TLS 1.3 (the default accepts 1.2 and 1.3).")
    var tls13 = false

    @Option(name: .customLong("tls-max"), help: "The newest TLS version to offer: 1.2 or 1.3.")
    var tlsMax: String?

    func validate() throws {
        if http2 && http11 { throw ValidationError("--http1.1 and --http2 exclude each other") }
        for field in header where !field.contains(":") { throw ValidationError("-H \(field): expected \"Name: value\"") }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
        if let tlsMax, tlsMax != "1.2" && tlsMax != "1.3" { throw ValidationError("--tls-max \(tlsMax): expected 1.2 or 1.3") }
        if tls13 && tlsMax == "1.2" { throw ValidationError("--tlsv1.3 and --tls-max 1.2 leave no version") }
        if let proxy { _ = try Self.parseProxy(proxy) }
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
        if let cert, let key {
            do {
                configuration.tls.identity = try TLSIdentity(certificateFile: cert, privateKeyFile: key)
            } catch {
                throw ValidationError("--cert \(cert) --key \(key): \(error)")
            }
        }
        if tls13 { configuration.tls.policy.minimumVersion = .tls13 }
        if tlsMax == "1.2" { configuration.tls.policy.maximumVersion = .tls12 }
        if let proxy { configuration.proxy = try Self.parseProxy(proxy) }
        if let maxTime { configuration.timeouts.request = .milliseconds(Int64(maxTime * 1000)) }
        return configuration
    }

    /// `http://[user:password@]host:port` (or without the scheme) as a proxy; the credentials
    /// become a Basic `Proxy-Authorization`.
    static func parseProxy(_ text: String) throws -> HTTPClientProxy {
        var rest = Substring(text)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var authorization: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = String(rest[..<at]).removingPercentEncoding ?? String(rest[..<at])
            authorization = "Basic " + Data(credentials.utf8).base64EncodedString()
            rest = rest[rest.index(after: at)...]
        }
        var host = rest
        var port: UInt16 = 1080
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("]") {
            guard let parsed = UInt16(rest[rest.index(after: colon)...]) else {
                throw ValidationError("--proxy \(text): bad port")
            }
            port = parsed
            host = rest[..<colon]
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty, !text.contains("://") || text.hasPrefix("http://") else {
            throw ValidationError("--proxy \(text): expected http://[user:password@]host:port")
        }
        return HTTPClientProxy(host: String(host), port: port, authorization: authorization)
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
        var request: HTTPRequest?
        do {
            let prepared = try client.request(method, url, headers: headers)
            request = prepared
            let response = try await client.execute(prepared, body: body.map { .bytes($0) })
            if verbose {
                // The protocol is known once a connection is open (ALPN), so both heads print now.
                standardError.write(Data((Self.requestHead(prepared, version: response.protocolVersion)
                                          + Self.responseHead(response)).utf8))
            }
            try await write(response)
        } catch let error as HTTPClientError {
            if verbose, let request {
                standardError.write(Data(Self.requestHead(request, version: http2 ? .http2 : .http1_1).utf8))
            }
            standardError.write(Data("epsilon: \(error)\n".utf8))
            throw ExitCode(7)
        }
    }

    /// `-v`'s request head, as curl prints it: `> GET /path HTTP/1.1` (or `HTTP/2`), `Host`, the
    /// fields given, then a lone `>`. Over HTTP/2 the request line stands for the pseudo-header
    /// fields (`:method`, `:path`, and `Host` for `:authority`).
    static func requestHead(_ request: HTTPRequest, version: HTTPClientProtocolVersion) -> String {
        var lines = "> \(request.method.rawValue) \(request.path ?? "/") \(version)\n> Host: \(request.authority ?? "")\n"
        for field in request.headerFields { lines += "> \(field.name.rawName): \(field.value)\n" }
        return lines + ">\n"
    }

    /// `-v`'s response head: `< HTTP/1.1 200 OK`, or `< HTTP/2 200` (HTTP/2 has no reason
    /// phrase), the fields, then a lone `<`.
    static func responseHead(_ response: HTTPClientResponse) -> String {
        var lines = "< \(response.protocolVersion) \(response.status.code)"
        if response.protocolVersion == .http1_1 { lines += " \(response.status.reasonPhrase)" }
        lines += "\n"
        for field in response.headerFields { lines += "< \(field.name.rawName): \(field.value)\n" }
        return lines + "<\n"
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
