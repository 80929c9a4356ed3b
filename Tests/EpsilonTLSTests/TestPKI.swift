import EpsilonTLS
import Foundation

/// Certificates made at run time by the `openssl` command-line tool (never committed):
///
/// ```
/// root ─┬─ intermediate ─┬─ localhost      (DNS:localhost, DNS:www.example.test, IP:127.0.0.1)
///       │                ├─ api.example.test
///       │                ├─ expired        (DNS:localhost, notAfter in the past)
///       │                └─ client         (clientAuth, for mutual TLS)
/// otherRoot ─┬─ stranger   (DNS:localhost, from a CA the client does not trust)
///            └─ rogueClient
/// ```
/// plus OCSP responses ("good" and "revoked") for the localhost leaf, signed by the intermediate.
final class TestPKI: Sendable {
    let directory: String

    static let shared = Result { try TestPKI() }
    static func get() throws -> TestPKI { try shared.get() }

    private init() throws {
        directory = NSTemporaryDirectory() + "epsilon-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try makeRoot("root", subject: "/O=Epsilon Test/CN=Epsilon Test Root")
        try makeRoot("otherRoot", subject: "/O=Elsewhere/CN=Other Root")
        try makeLeaf("intermediate", subject: "/O=Epsilon Test/CN=Epsilon Test Intermediate", issuer: "root", serial: "0x02",
                     extensions: "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n")
        let server = "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        try makeLeaf("localhost", subject: "/CN=localhost", issuer: "intermediate", serial: "0x10",
                     extensions: server + "subjectAltName=DNS:localhost,DNS:www.example.test,IP:127.0.0.1\n")
        try makeLeaf("api", subject: "/CN=api.example.test", issuer: "intermediate", serial: "0x11",
                     extensions: server + "subjectAltName=DNS:api.example.test\n")
        try makeLeaf("expired", subject: "/CN=localhost", issuer: "intermediate", serial: "0x12",
                     extensions: server + "subjectAltName=DNS:localhost\n", days: -1)
        try makeLeaf("client", subject: "/CN=client", issuer: "intermediate", serial: "0x13",
                     extensions: "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
        try makeLeaf("stranger", subject: "/CN=localhost", issuer: "otherRoot", serial: "0x20",
                     extensions: server + "subjectAltName=DNS:localhost\n")
        try makeLeaf("rogueClient", subject: "/CN=rogue", issuer: "otherRoot", serial: "0x21",
                     extensions: "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
        // Chains as a server sends them: leaf then intermediate.
        for name in ["localhost", "api", "expired", "client"] {
            let chain = try String(contentsOfFile: path("\(name).pem"), encoding: .utf8)
                + String(contentsOfFile: path("intermediate.pem"), encoding: .utf8)
            try chain.write(toFile: path("\(name)-chain.pem"), atomically: true, encoding: .utf8)
        }
        for name in ["stranger", "rogueClient"] {  // issued by a root directly: the leaf alone
            try FileManager.default.copyItem(atPath: path("\(name).pem"), toPath: path("\(name)-chain.pem"))
        }
        // DER forms and an encrypted key, to test loading.
        try openssl(["x509", "-in", path("localhost.pem"), "-outform", "DER", "-out", path("localhost.der")])
        try openssl(["x509", "-in", path("intermediate.pem"), "-outform", "DER", "-out", path("intermediate.der")])
        try openssl(["pkey", "-in", path("localhost.key"), "-outform", "DER", "-out", path("localhost.key.der")])
        try openssl(["pkey", "-in", path("localhost.key"), "-aes256", "-passout", "pass:secret", "-out", path("localhost.key.enc")])
        // OCSP responses for the localhost leaf (serial 0x10), signed by its issuer.
        try ocsp(status: "V\t300101000000Z\t\t10\tunknown\t/CN=localhost\n", output: "ocsp-good.der")
        try ocsp(status: "R\t300101000000Z\t200101000000Z\t10\tunknown\t/CN=localhost\n", output: "ocsp-revoked.der")
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { directory + "/" + name }

    /// Chain (leaf + intermediate) and key of a leaf made above.
    func identity(_ name: String, ocsp: String? = nil) throws -> TLSIdentity {
        try TLSIdentity(certificateFile: path("\(name)-chain.pem"), privateKeyFile: path("\(name).key"),
                        ocspResponseFile: ocsp.map { path($0) })
    }

    /// Trust in one root.
    func trust(_ root: String = "root") throws -> TLSTrustRoots {
        .only(try TLSCertificate.chain(file: path("\(root).pem")))
    }

    private func makeRoot(_ name: String, subject: String) throws {
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path("\(name).key")])
        try openssl(["req", "-x509", "-new", "-key", path("\(name).key"), "-subj", subject, "-days", "3",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                     "-out", path("\(name).pem")])
    }

    private func makeLeaf(_ name: String, subject: String, issuer: String, serial: String, extensions: String, days: Int = 3) throws {
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path("\(name).key")])
        try openssl(["req", "-new", "-key", path("\(name).key"), "-subj", subject, "-out", path("\(name).csr")])
        try extensions.write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(issuer).pem"), "-CAkey", path("\(issuer).key"),
                     "-set_serial", serial, "-days", String(days), "-extfile", path("\(name).ext"), "-out", path("\(name).pem")])
    }

    private func ocsp(status: String, output: String) throws {
        try status.write(toFile: path("index-\(output).txt"), atomically: true, encoding: .utf8)
        try openssl(["ocsp", "-index", path("index-\(output).txt"), "-rsigner", path("intermediate.pem"),
                     "-rkey", path("intermediate.key"), "-CA", path("intermediate.pem"), "-issuer", path("intermediate.pem"),
                     "-cert", path("localhost.pem"), "-respout", path(output), "-ndays", "1"])
    }

    @discardableResult
    func openssl(_ arguments: [String]) throws -> String {
        let result = try TestProcess.run("/usr/bin/openssl", arguments)
        guard result.status == 0 else {
            throw TestFailure("openssl \(arguments.joined(separator: " ")) exited \(result.status): \(result.error)")
        }
        return result.output
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum TestProcess {
    /// Runs a program to completion, returning its exit status, standard output and error.
    static func run(_ program: String, _ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: String, error: String) {
        guard FileManager.default.isExecutableFile(atPath: program) else {
            throw TestFailure("\(program) is missing (apt-get install -y openssl)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let output = Pipe(), error = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        // Read both pipes fully before waiting, so a chatty child cannot block on a full pipe.
        let errorData = LockedData()
        let errorReader = Thread { errorData.set(error.fileHandleForReading.readDataToEndOfFile()) }
        errorReader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { usleep(1000) }
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData.value, as: UTF8.self))
    }
}

/// A Data slot written by one thread and read by another.
final class LockedData: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.withLock { data = value } }
    var isSet: Bool { lock.withLock { data != nil } }
    var value: Data { lock.withLock { data ?? Data() } }
}
