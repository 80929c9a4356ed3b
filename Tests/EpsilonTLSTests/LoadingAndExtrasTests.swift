import EpsilonTLS
import Foundation
import Testing

@Suite struct Loading {
    @Test func pemAndDERGiveTheSameCertificateAndKey() throws {
        let pki = try TestPKI.get()
        let pemChain = try TLSCertificate.chain(file: pki.path("localhost-chain.pem"))
        #expect(pemChain.map(\.subject) == ["CN=localhost", "CN=Epsilon Test Intermediate,O=Epsilon Test"])
        #expect(pemChain[0].issuer == "CN=Epsilon Test Intermediate,O=Epsilon Test")
        let der = try Data(contentsOf: URL(fileURLWithPath: pki.path("localhost.der")))
        #expect(try TLSCertificate(bytes: Array(der)) == pemChain[0])
        #expect(pemChain[0].derBytes == Array(der))
        // Several DER certificates back to back form a chain too.
        let derChain = Array(der) + Array(try Data(contentsOf: URL(fileURLWithPath: pki.path("intermediate.der"))))
        #expect(try TLSCertificate.chain(der: derChain) == pemChain)

        // The same identity from PEM, DER and an encrypted PEM key serves a handshake.
        let keys = [
            try TLSPrivateKey(file: pki.path("localhost.key")),
            try TLSPrivateKey(file: pki.path("localhost.key.der")),
            try TLSPrivateKey(file: pki.path("localhost.key.enc"), passphrase: "secret"),
        ]
        for key in keys {
            let identity = TLSIdentity(chain: try TLSCertificate.chain(der: derChain), privateKey: key)
            let link = try Link(TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust())),
                                TLSContext(server: TLSServerConfiguration(identity: identity)))
            link.run()
            #expect(link.clientError == nil && link.bothEstablished)
        }
    }

    @Test func badInputsGiveTypedErrors() throws {
        let pki = try TestPKI.get()
        #expect(throws: TLSError.fileUnreadable(path: pki.path("nope.pem"))) { try TLSCertificate.chain(file: pki.path("nope.pem")) }
        #expect(throws: TLSError.self) { try TLSCertificate(bytes: Array("-----BEGIN nothing".utf8)) }
        #expect(throws: TLSError.self) { try TLSCertificate(bytes: [0x30, 0x03, 0x02, 0x01]) }
        #expect(throws: TLSError.self) { try TLSCertificate(bytes: []) }
        #expect(throws: TLSError.self) { try TLSPrivateKey(bytes: [1, 2, 3]) }
        #expect(throws: TLSError.self) { try TLSPrivateKey(file: pki.path("localhost.key.enc"), passphrase: "wrong") }
        #expect(throws: TLSError.self) { try TLSPrivateKey(file: pki.path("localhost.key.enc")) }
        let mismatched = TLSIdentity(chain: try TLSCertificate.chain(file: pki.path("localhost.pem")),
                                     privateKey: try TLSPrivateKey(file: pki.path("api.key")))
        #expect(throws: TLSError.privateKeyMismatch) { try TLSContext(server: TLSServerConfiguration(identity: mismatched)) }
        #expect(throws: TLSError.self) {
            try TLSContext(client: TLSClientConfiguration(applicationProtocols: [""]))
        }
    }
}

@Suite struct OCSPStapling {
    func link(staple: String?, policy: TLSClientConfiguration.OCSPPolicy) throws -> Link {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost", ocsp: staple)))
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(), ocsp: policy))
        let link = try Link(client, server)
        link.run()
        return link
    }

    @Test(arguments: [TLSClientConfiguration.OCSPPolicy.require, .checkIfStapled])
    func goodResponseIsAccepted(policy: TLSClientConfiguration.OCSPPolicy) throws {
        let link = try link(staple: "ocsp-good.der", policy: policy)
        #expect(link.clientError == nil && link.bothEstablished)
        let pki = try TestPKI.get()
        #expect(link.client.stapledOCSPResponse == Array(try Data(contentsOf: URL(fileURLWithPath: pki.path("ocsp-good.der")))))
    }

    @Test func revokedResponseIsCertificateRevoked() throws {
        let link = try link(staple: "ocsp-revoked.der", policy: .checkIfStapled)
        #expect(link.clientError == .certificateRevoked)
        #expect(link.serverError == .alertReceived(.badCertificateStatusResponse))
    }

    @Test func missingResponse() throws {
        #expect(try link(staple: nil, policy: .require).clientError == .ocspResponseMissing)
        let lenient = try link(staple: nil, policy: .checkIfStapled)
        #expect(lenient.clientError == nil && lenient.bothEstablished && lenient.client.stapledOCSPResponse == nil)
    }

    @Test func responseForAnotherCertificateIsInvalid() throws {
        let pki = try TestPKI.get()
        // The api certificate with the localhost response stapled.
        let server = try TLSContext(server: TLSServerConfiguration(
            identity: pki.identity("api", ocsp: "ocsp-good.der")))
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(), ocsp: .require))
        let link = try Link(client, server, serverName: "api.example.test")
        link.run()
        guard case .ocspResponseInvalid = link.clientError else {
            Issue.record("client error \(String(describing: link.clientError))")
            return
        }
    }
}

@Suite struct KeyLog {
    final class Lines: @unchecked Sendable {
        // @unchecked: every access goes through `lock`.
        private let lock = NSLock()
        private var stored: [String] = []
        func append(_ line: String) { lock.withLock { stored.append(line) } }
        var all: [String] { lock.withLock { stored } }
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func secretsAreWrittenInNSSFormat(version: TLSVersion) throws {
        let pki = try TestPKI.get()
        let lines = Lines()
        let file = pki.path("keylog-\(version).txt")
        let client = try TLSContext(client: TLSClientConfiguration(
            trustRoots: pki.trust(), policy: TLSPolicy(minimumVersion: version, maximumVersion: version),
            keyLog: .handler { lines.append($0) }))
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"), keyLog: .file(file)))
        let link = try Link(client, server)
        link.run()
        #expect(link.bothEstablished)
        let labels = Set(lines.all.compactMap { $0.split(separator: " ").first.map(String.init) })
        if version == .tls13 {
            #expect(labels.isSuperset(of: ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                           "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"]))
        } else {
            #expect(labels == ["CLIENT_RANDOM"])
        }
        // Both sides log the same secrets: the server's file holds the client's lines.
        let written = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(Set(written) == Set(lines.all))
    }
}

/// Hostile input to a server engine: typed errors, never a crash (what a fuzzer checks).
@Suite struct HostileInput {
    @Test func randomBytesGiveTypedErrors() throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"), applicationProtocols: ["h2"]))
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            let engine = try TLSEngine(context: server)
            var bytes = (0..<Int.random(in: 0...600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if round % 2 == 0, bytes.count > 5 {  // a plausible handshake record header
                bytes[0] = 22; bytes[1] = 3; bytes[2] = 1
            }
            engine.receive(bytes)
            if round % 3 == 0 { engine.receiveEndOfStream() }
            var plaintext: [UInt8] = []
            _ = try? engine.process(into: &plaintext)
            _ = engine.takeOutput()
            #expect(plaintext.isEmpty)
            #expect(!engine.isHandshakeComplete)
        }
    }

    @Test func corruptedRecordAfterHandshakeIsBadRecordMAC() throws {
        let pki = try TestPKI.get()
        let link = try Link(TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust())),
                            TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"))))
        link.run()
        try link.client.send(Array("secret".utf8))
        var record = link.client.takeOutput()
        record[record.count - 1] ^= 0x01
        link.server.receive(record)
        var plaintext: [UInt8] = []
        #expect {
            try link.server.process(into: &plaintext)
        } throws: { error in
            guard case .protocolViolation(_, .badRecordMAC?) = error as? TLSError else { return false }
            return true
        }
        #expect(plaintext.isEmpty)
    }
}
