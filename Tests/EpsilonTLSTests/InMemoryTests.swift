import EpsilonTLS
import Testing

/// Our client engine against our server engine, in memory, no sockets.
@Suite struct HandshakeAndData {
    @Test(arguments: [TLSVersion.tls12, .tls13])
    func handshakeThenDataBothWays(version: TLSVersion) throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost")))
        let client = try TLSContext(client: TLSClientConfiguration(
            trustRoots: pki.trust(), policy: TLSPolicy(minimumVersion: version, maximumVersion: version)))
        let link = try Link(client, server)
        // Sent before the handshake: queued, then encrypted once it completes.
        try link.client.send(Array("hello server".utf8))
        link.run()
        #expect(link.clientError == nil && link.serverError == nil)
        #expect(link.bothEstablished)
        #expect(link.clientEvents.contains(.handshakeCompleted) && link.serverEvents.contains(.handshakeCompleted))
        #expect(link.client.version == version && link.server.version == version)
        #expect(link.client.cipherSuite == link.server.cipherSuite)
        let suite = try #require(link.client.cipherSuite)
        #expect(version == .tls13 ? suite.hasPrefix("TLS_AES_") || suite.hasPrefix("TLS_CHACHA20") : suite.hasPrefix("TLS_ECDHE_"))
        #expect(link.client.peerCertificate?.subject == "CN=localhost")
        #expect(link.server.peerCertificate == nil)
        #expect(link.client.isResumed == false)
        #expect(String(decoding: link.serverPlaintext, as: UTF8.self) == "hello server")

        // 1 MiB the other way: many records, all bytes in order.
        let big = (0..<1_048_576).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        try link.server.send(big)
        link.run()
        #expect(link.clientPlaintext == big)
    }

    @Test func anySplitOfTheStreamGivesTheSameResult() throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"), applicationProtocols: ["h2"]))
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(), applicationProtocols: ["h2"]))
        for chunk in [1, 7, 100] {
            let link = try Link(client, server)
            link.chunkSize = chunk
            try link.client.send(Array("ping".utf8))
            link.run()
            #expect(link.clientError == nil && link.serverError == nil, "chunk \(chunk)")
            #expect(link.server.applicationProtocol == "h2")
            #expect(link.serverPlaintext == Array("ping".utf8), "chunk \(chunk)")
        }
    }
}

@Suite struct ALPN {
    @Test func serverPreferenceWins() throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"),
                                                                   applicationProtocols: ["h2", "http/1.1"]))
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(), applicationProtocols: ["http/1.1", "h2"]))
        let link = try Link(client, server)
        link.run()
        #expect(link.client.applicationProtocol == "h2")
        #expect(link.server.applicationProtocol == "h2")
    }

    @Test func clientWithoutALPNGetsNone() throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"), applicationProtocols: ["h2"]))
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust()))
        let link = try Link(client, server)
        link.run()
        #expect(link.bothEstablished)
        #expect(link.client.applicationProtocol == nil)
    }

    @Test func noCommonProtocolIsNoApplicationProtocolAlert() throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"), applicationProtocols: ["h2"]))
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(), applicationProtocols: ["spdy/3"]))
        let link = try Link(client, server)
        link.run()
        #expect(link.clientError == .alertReceived(.noApplicationProtocol))
        guard case .handshakeFailed(_, let sent) = link.serverError else {
            Issue.record("server error \(String(describing: link.serverError))")
            return
        }
        #expect(sent == .noApplicationProtocol)
    }
}

@Suite struct SNI {
    @Test(arguments: [
        ("api.example.test", "CN=api.example.test"),
        ("localhost", "CN=localhost"),
        ("www.example.test", "CN=localhost"),  // not configured: the default identity
    ])
    func serverChoosesCertificateByName(name: String, expectedSubject: String) throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(
            identity: pki.identity("localhost"), identitiesByName: ["API.example.test": pki.identity("api")]))
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust()))
        let link = try Link(client, server, serverName: name)
        link.run()
        #expect(link.clientError == nil && link.serverError == nil)
        #expect(link.server.serverName == name)
        #expect(link.client.peerCertificate?.subject == expectedSubject)
    }

    @Test func wildcardNameMatchesOneLabel() throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(
            identity: pki.identity("localhost"), identitiesByName: ["*.example.test": pki.identity("api")]))
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(), verification: .skippingHostname))
        let one = try Link(client, server, serverName: "x.example.test")
        one.run()
        #expect(one.client.peerCertificate?.subject == "CN=api.example.test")
        let two = try Link(client, server, serverName: "a.b.example.test")
        two.run()
        #expect(two.client.peerCertificate?.subject == "CN=localhost")
    }
}

@Suite struct Resumption {
    enum Mode: String, CaseIterable { case tls13Ticket, tls12Ticket, tls12SessionCache }

    @Test(arguments: Mode.allCases)
    func secondConnectionResumes(mode: Mode) throws {
        let pki = try TestPKI.get()
        let version: TLSVersion = mode == .tls13Ticket ? .tls13 : .tls12
        let server = try TLSContext(server: TLSServerConfiguration(
            identity: pki.identity("localhost"), policy: TLSPolicy(sessionTickets: mode != .tls12SessionCache)))
        let client = try TLSContext(client: TLSClientConfiguration(
            trustRoots: pki.trust(), policy: TLSPolicy(minimumVersion: version, maximumVersion: version)))
        let first = try Link(client, server)
        first.run()
        #expect(first.bothEstablished && !first.client.isResumed)
        let session = try #require(first.client.session)
        #expect(session.version == version && session.isResumable)

        let second = try Link(client, server, resuming: session)
        try second.client.send([1, 2, 3])
        second.run()
        #expect(second.clientError == nil && second.serverError == nil)
        #expect(second.client.isResumed && second.server.isResumed)
        #expect(second.serverPlaintext == [1, 2, 3])
        // Resumption still authenticates the server: the peer certificate is the original one.
        #expect(second.client.peerCertificate?.subject == "CN=localhost")

        // The newest session: a different server context (other ticket keys and cache)
        // cannot resume it, the original server can.
        let latest = try #require(second.client.session)
        let stranger = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost")))
        let third = try Link(client, stranger, resuming: latest)
        third.run()
        #expect(third.bothEstablished && !third.client.isResumed)
        let fourth = try Link(client, server, resuming: latest)
        fourth.run()
        #expect(fourth.bothEstablished && fourth.client.isResumed)
    }

    @Test func truncatedConnectionIsNotResumable() throws {
        let pki = try TestPKI.get()
        let server = try TLSContext(server: TLSServerConfiguration(
            identity: pki.identity("localhost"), policy: TLSPolicy(sessionTickets: false)))
        let client = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(), policy: TLSPolicy(maximumVersion: .tls12)))
        var first: Link? = try Link(client, server)
        first?.run()
        let session = try #require(first?.client.session)
        first?.server.receiveEndOfStream()
        var plaintext: [UInt8] = []
        #expect(throws: TLSError.truncated) { try first?.server.process(into: &plaintext) }
        first = nil  // the server drops the truncated session from its cache
        let second = try Link(client, server, resuming: session)
        second.run()
        #expect(second.bothEstablished && !second.client.isResumed)
    }
}

@Suite struct Closure {
    @Test func closeNotifyEndsCleanly() throws {
        let pki = try TestPKI.get()
        let link = try Link(TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust())),
                            TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"))))
        link.run()
        try link.server.send(Array("last words".utf8))
        link.server.close()
        #expect(throws: TLSError.closed) { try link.server.send([0]) }
        link.run()
        #expect(String(decoding: link.clientPlaintext, as: UTF8.self) == "last words")
        #expect(link.clientEvents.contains(.closeNotifyReceived) && link.client.hasReceivedCloseNotify)
        link.client.close()
        link.run()
        #expect(link.server.hasReceivedCloseNotify)
        // After close_notify, the end of the stream is a clean end.
        link.client.receiveEndOfStream()
        var rest: [UInt8] = []
        #expect(throws: Never.self) { try link.client.process(into: &rest) }
        #expect(rest.isEmpty)
    }

    @Test func closeDuringHandshakeSendsQueuedDataThenCloseNotify() throws {
        let pki = try TestPKI.get()
        let link = try Link(TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust())),
                            TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"))))
        try link.client.send(Array("request".utf8))
        link.client.close()
        link.run()
        #expect(link.clientError == nil && link.serverError == nil)
        #expect(String(decoding: link.serverPlaintext, as: UTF8.self) == "request")
        #expect(link.server.hasReceivedCloseNotify)
        // Half-closed: the server can still answer (TLS 1.3 allows it, RFC 8446 §6.1).
        try link.server.send(Array("response".utf8))
        link.server.close()
        link.run()
        #expect(String(decoding: link.clientPlaintext, as: UTF8.self) == "response")
        #expect(link.client.hasReceivedCloseNotify)
    }

    @Test func endOfStreamWithoutCloseNotifyIsTruncation() throws {
        let pki = try TestPKI.get()
        let link = try Link(TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust())),
                            TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"))))
        link.run()
        try link.server.send(Array("partial".utf8))
        let records = link.server.takeOutput()
        link.client.receive(records)
        link.client.receiveEndOfStream()
        var plaintext: [UInt8] = []
        #expect(throws: TLSError.truncated) { try link.client.process(into: &plaintext) }
        // What arrived before the cut is still delivered, and the error sticks.
        #expect(String(decoding: plaintext, as: UTF8.self) == "partial")
        #expect(throws: TLSError.truncated) { try link.client.process(into: &plaintext) }
    }

    @Test func endOfStreamDuringHandshake() throws {
        let pki = try TestPKI.get()
        let server = try TLSEngine(context: TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"))))
        let client = try TLSEngine(context: TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust())), serverName: "localhost")
        var plaintext: [UInt8] = []
        try client.process(into: &plaintext)
        let hello = client.takeOutput()
        server.receive(Array(hello.prefix(hello.count / 2)))
        server.receiveEndOfStream()
        #expect(throws: TLSError.endOfStreamDuringHandshake) { try server.process(into: &plaintext) }
    }
}
