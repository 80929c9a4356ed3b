import EpsilonTLS
import Testing

/// Each certificate check that can fail gives its own typed error on the side that checks,
/// and the other side receives the matching alert.
@Suite struct CertificateFailures {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let serverIdentity: String
        let clientTrust: String
        let serverName: String
        let clientError: TLSError
        let serverError: TLSError
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "unknown CA", serverIdentity: "stranger", clientTrust: "root", serverName: "localhost",
             clientError: .unknownCertificateAuthority, serverError: .alertReceived(.unknownCA)),
        Case(name: "untrusted root", serverIdentity: "localhost", clientTrust: "otherRoot", serverName: "localhost",
             clientError: .unknownCertificateAuthority, serverError: .alertReceived(.unknownCA)),
        Case(name: "expired", serverIdentity: "expired", clientTrust: "root", serverName: "localhost",
             clientError: .certificateExpired, serverError: .alertReceived(.certificateExpired)),
        Case(name: "hostname mismatch", serverIdentity: "localhost", clientTrust: "root", serverName: "wrong.example.test",
             clientError: .hostnameMismatch(expected: "wrong.example.test"), serverError: .alertReceived(.badCertificate)),
        Case(name: "IP address mismatch", serverIdentity: "localhost", clientTrust: "root", serverName: "10.1.2.3",
             clientError: .hostnameMismatch(expected: "10.1.2.3"), serverError: .alertReceived(.badCertificate)),
    ]

    @Test(arguments: cases)
    func serverCertificateRejected(_ testCase: Case) throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity(testCase.serverIdentity)))
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(testCase.clientTrust)))
        let link = try Link(client, server, serverName: testCase.serverName)
        link.run()
        #expect(link.clientError == testCase.clientError)
        #expect(link.serverError == testCase.serverError)
        #expect(!link.client.isHandshakeComplete)
    }

    @Test func matchingIPAddressIsAccepted() throws {
        let pki = try TestPKI.get()
        let link = try Link(TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust())),
                            TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"))),
                            serverName: "127.0.0.1")
        link.run()
        #expect(link.clientError == nil && link.bothEstablished)
        #expect(link.server.serverName == nil)  // no SNI for IP literals (RFC 6066 §3)
    }

    @Test func verificationModesRelaxChecksExplicitly() throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost")))
        let noHost = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(), verification: .skippingHostname))
        let one = try Link(noHost, server, serverName: "wrong.example.test")
        one.run()
        #expect(one.clientError == nil && one.bothEstablished)
        let stranger = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("stranger")))
        let two = try Link(noHost, stranger)
        two.run()
        #expect(two.clientError == .unknownCertificateAuthority)
        let nothing = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(), verification: .none))
        let three = try Link(nothing, stranger, serverName: nil)
        three.run()
        #expect(three.clientError == nil && three.bothEstablished)
    }

    @Test func fullVerificationNeedsAServerName() throws {
        let pki = try TestPKI.get()
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust()))
        #expect(throws: TLSError.self) { try TLSEngine(context: client) }
    }

    @Test func systemTrustStoreDoesNotTrustOurTestRoot() throws {
        let pki = try TestPKI.get()
        let link = try Link(TLSContext(client: TLSClientConfiguration(trustRoots: .system)),
                            TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"))))
        link.run()
        #expect(link.clientError == .unknownCertificateAuthority)
        // System store plus our root: accepted.
        let both = TLSTrustRoots(includesSystemStore: true, certificates: try TLSCertificate.chain(file: pki.path("root.pem")))
        let link2 = try Link(TLSContext(client: TLSClientConfiguration(trustRoots: both)),
                             TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"))))
        link2.run()
        #expect(link2.clientError == nil && link2.bothEstablished)
    }
}

@Suite struct MutualTLS {
    @Test(arguments: [TLSVersion.tls12, .tls13])
    func clientCertificateAccepted(version: TLSVersion) throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(
            identity: pki.identity("localhost"), clientAuthentication: .required(pki.trust())))
        let client = try TLSContext(client: TLSClientConfiguration(
            trustRoots: pki.trust(), identity: pki.identity("client"),
            policy: TLSPolicy(minimumVersion: version, maximumVersion: version)))
        let link = try Link(client, server)
        try link.client.send([42])
        link.run()
        #expect(link.clientError == nil && link.serverError == nil)
        #expect(link.server.peerCertificate?.subject == "CN=client")
        #expect(link.serverPlaintext == [42])
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func missingClientCertificate(version: TLSVersion) throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(
            identity: pki.identity("localhost"), clientAuthentication: .required(pki.trust())))
        let client = try TLSContext(client: TLSClientConfiguration(
            trustRoots: pki.trust(), policy: TLSPolicy(minimumVersion: version, maximumVersion: version)))
        let link = try Link(client, server)
        link.run()
        #expect(link.serverError == .peerCertificateRequired)
        // TLS 1.3 has its own alert for this (RFC 8446 §4.4.2.4); TLS 1.2 uses handshake_failure.
        #expect(link.clientError == .alertReceived(version == .tls13 ? .certificateRequired : .handshakeFailure))
    }

    @Test func untrustedClientCertificate() throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(
            identity: pki.identity("localhost"), clientAuthentication: .optional(pki.trust())))
        let rogue = try TLSIdentity(certificateFile: pki.path("rogueClient.pem"), privateKeyFile: pki.path("rogueClient.key"))
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(), identity: rogue))
        let link = try Link(client, server)
        link.run()
        #expect(link.serverError == .unknownCertificateAuthority)
        #expect(link.clientError == .alertReceived(.unknownCA))
        // Optional: a client with no certificate is let in.
        let anonymous = try Link(TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust())), server)
        anonymous.run()
        #expect(anonymous.serverError == nil && anonymous.bothEstablished && anonymous.server.peerCertificate == nil)
    }
}

@Suite struct Policy {
    @Test func versionRangesThatDoNotMeetFail() throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"), policy: .modern))
        let client = try TLSContext(client: TLSClientConfiguration(
            trustRoots: pki.trust(), policy: TLSPolicy(maximumVersion: .tls12)))
        let link = try Link(client, server)
        link.run()
        #expect(link.clientError == .alertReceived(.protocolVersion))
        guard case .handshakeFailed(_, let sent) = link.serverError else {
            Issue.record("server error \(String(describing: link.serverError))")
            return
        }
        #expect(sent == .protocolVersion)
    }

    @Test func nonForwardSecretSuiteIsRefusedByDefault() throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost")))
        // Static-key exchange (no ECDHE): offered by this client, refused by the default policy.
        let client = try TLSContext(client: TLSClientConfiguration(
            trustRoots: pki.trust(), policy: TLSPolicy(maximumVersion: .tls12, tls12Ciphers: "AES128-GCM-SHA256:AES256-SHA")))
        let link = try Link(client, server)
        link.run()
        #expect(link.clientError == .alertReceived(.handshakeFailure))
        guard case .handshakeFailed(let reason, .handshakeFailure?) = link.serverError else {
            Issue.record("server error \(String(describing: link.serverError))")
            return
        }
        #expect(reason == "no shared cipher")
    }

    @Test(arguments: [
        TLSPolicy(tls12Ciphers: "NOT-A-CIPHER"),
        TLSPolicy(tls13CipherSuites: "TLS_NOPE"),
        TLSPolicy(groups: "P-1"),
        TLSPolicy(minimumVersion: .tls13, maximumVersion: .tls12),
    ])
    func unusablePolicyIsRejectedUpFront(policy: TLSPolicy) throws {
        let pki = try TestPKI.get()
        #expect {
            _ = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"), policy: policy))
        } throws: { error in
            if case .invalidPolicy = error as? TLSError { return true }
            return false
        }
    }
}
