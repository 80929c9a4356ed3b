import EpsilonHPACK
import EpsilonHTTP2
@testable import EpsilonHTTPServer
import Foundation
import Testing

/// Protocol selection in memory: ALPN, preface sniffing (down to one byte at a time), and the
/// `Upgrade: h2c` hand-off from the HTTP/1.1 session.
@Suite struct H2SelectionTests {
    static func context(h2c: Bool = true) -> (HTTPServerLoopContext, H2TestDispatcher) {
        var configuration = HTTPServerConfiguration()
        configuration.allowsCleartextHTTP2 = h2c
        let dispatcher = H2TestDispatcher()
        return (HTTPServerLoopContext(configuration: configuration, dispatcher: dispatcher), dispatcher)
    }

    @Test func cleartextWithoutH2CIsHTTP1Directly() {
        let (context, _) = Self.context(h2c: false)
        let io = HTTPServerMemoryIO()
        io.open(HTTPServerSessions.makeInitial(io: io, context: context))
        #expect(io.session is HTTP1ServerSession)
    }

    @Test(arguments: [1, 5, 23, 24, 100])
    func prefaceSplitAnywhereSelectsHTTP2(chunk: Int) {
        let (context, dispatcher) = Self.context()
        let io = HTTPServerMemoryIO()
        io.open(HTTPServerSessions.makeInitial(io: io, context: context))
        #expect(io.session is HTTPProtocolSelector)
        var client = HTTP2Connection(role: .client)
        let stream = (try? client.startRequest([HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"),
                                                HPACKHeaderField(":authority", "x"), HPACKHeaderField(":path", "/hello")],
                                               endStream: true)) ?? 0
        let bytes = client.takeOutput()
        var offset = 0
        while offset < bytes.count {
            io.receive(Array(bytes[offset..<min(offset + chunk, bytes.count)]))
            offset += chunk
        }
        #expect(io.session is HTTP2ServerSession)
        let events = (try? client.receive(io.takeOutput(), now: 0)) ?? []
        #expect(events.contains(.data(streamID: stream, Array("Hello, World!".utf8), endStream: true)))
        #expect(dispatcher.record.withLock { $0.paths } == ["/hello"])
    }

    @Test(arguments: ["GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "PRI /hello HTTP/1.1\r\nHost: x\r\n\r\n"])
    func anythingElseSelectsHTTP1WithTheBytesReplayed(request: String) {
        let (context, _) = Self.context()
        let io = HTTPServerMemoryIO()
        io.open(HTTPServerSessions.makeInitial(io: io, context: context))
        for byte in request.utf8 { io.receive([byte]) }
        #expect(io.session is HTTP1ServerSession)
        // Even bytes that began like the preface ("PRI ") reach HTTP/1.1 whole.
        let text = String(decoding: io.takeOutput(), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n") && text.hasSuffix("Hello, World!"))
    }

    @Test(arguments: ["h2", "http/1.1", nil] as [String?])
    func alpnSelects(protocolName: String?) {
        let (context, _) = Self.context(h2c: false)
        let io = HTTPServerMemoryIO()
        io.isSecure = true
        io.open(HTTPServerSessions.makeInitial(io: io, context: context))
        #expect(io.session is HTTPProtocolSelector)
        io.negotiatedApplicationProtocol = protocolName
        io.session?.tlsHandshakeCompleted()
        if protocolName == "h2" {
            #expect(io.session is HTTP2ServerSession)
        } else {
            #expect(io.session is HTTP1ServerSession)
        }
    }

    @Test func silentConnectionIsClosedBeforeAnyChoice() {
        let (context, _) = Self.context()
        let io = HTTPServerMemoryIO()
        io.open(HTTPServerSessions.makeInitial(io: io, context: context))
        io.advance(to: io.now + 31_000_000_000)
        #expect(io.isClosed)
    }

    /// `Upgrade: h2c` (RFC 7540 §3.2): `101`, then HTTP/2 with the request as stream 1.
    @Test func h2cUpgradeServesTheRequestAsStreamOne() {
        let (context, dispatcher) = Self.context()
        let io = HTTPServerMemoryIO()
        io.open(HTTPServerSessions.makeInitial(io: io, context: context))
        let settings = HTTP2Connection.upgradeSettingsHeaderValue()
        let request = "GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"
            + "Upgrade: h2c\r\nHTTP2-Settings: \(settings)\r\n\r\n"
        var client = HTTP2Connection(upgradedClientWith: HTTP2Configuration())
        // The client's preface may follow in the same read: the hand-off replays it.
        io.receive(Array(request.utf8) + client.takeOutput())
        #expect(io.session is HTTP2ServerSession)
        let output = io.takeOutput()
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        guard let end = text.range(of: "\r\n\r\n") else {
            Issue.record("no 101 head")
            return
        }
        let headLength = text.utf8.distance(from: text.startIndex, to: end.upperBound)
        let events = (try? client.receive(Array(output[headLength...]), now: 0)) ?? []
        #expect(events.contains(.data(streamID: 1, Array("Hello, World!".utf8), endStream: true)))
        #expect(dispatcher.record.withLock { $0.paths } == ["/hello"])
        // And the connection goes on as HTTP/2.
        let next = (try? client.startRequest([HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"),
                                              HPACKHeaderField(":authority", "x"), HPACKHeaderField(":path", "/hello")],
                                             endStream: true)) ?? 0
        #expect(next == 3)
        io.receive(client.takeOutput())
        let more = (try? client.receive(io.takeOutput(), now: 0)) ?? []
        #expect(more.contains(.data(streamID: 3, Array("Hello, World!".utf8), endStream: true)))
    }
}
