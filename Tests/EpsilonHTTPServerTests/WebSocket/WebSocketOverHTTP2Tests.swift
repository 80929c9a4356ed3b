import Foundation
import Testing

/// WebSocket over HTTP/2 (RFC 8441) against a real ``HTTPServer``, with Python's `h2` and
/// wsproto's frame layer as the peer (pip packages `h2`, `wsproto`), over h2c prior knowledge
/// and TLS with ALPN `h2`.
extension SocketSuites {
@Suite struct WebSocketOverHTTP2Tests {
    /// The setting is announced; text, binary and a 1 MiB message (both windows) echo; a ping
    /// is answered; a GET on another stream is served meanwhile; the close handshake ends the
    /// stream with END_STREAM.
    @Test(arguments: [false, true])
    func echoOverExtendedConnect(tls: Bool) async throws {
        let server = try await H2WebSocketTestServer.start(tls: tls)
        let result = await server.python("""
            client = H2Client(port, tls=tls)
            print("setting", client.connect_protocol_enabled)
            ws = client.open_websocket("/ws")
            print("status", ws.headers[":status"], "accept" in " ".join(ws.headers))
            ws.send_text("hello")
            print("text", ws.receive_message())
            ws.send_binary(b"\\x00\\x01\\x02")
            print("binary", ws.receive_message())
            big = bytes(i % 251 for i in range(1 << 20))
            ws.send_binary(big)
            kind, data = ws.receive_message(timeout=30)
            print("big", kind, data == big)
            ws.ping(b"p1")
            while True:
                kind, payload = ws.receive()
                if kind == "pong":
                    print("pong", payload)
                    break
            print("get", client.get("/hello"))
            ws.close(1000, "bye")
            print("close", ws.receive_message())
            print("end", ws.wait_end())
            print("get", client.get("/hello"))
            client.close()
            """)
        let closes = await server.waitForCloses { $0.count == 1 }
        _ = await server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == """
            setting True
            status 200 False
            text ('text', 'hello')
            binary ('binary', b'\\x00\\x01\\x02')
            big binary True
            pong b'p1'
            get (200, b'Hello, World!')
            close ('close', (1000, ''))
            end end
            get (200, b'Hello, World!')

            """, "\(result.text)")
        #expect(closes == [1000])
    }

    /// The route's hook chooses the subprotocol, and permessage-deflate is negotiated with the
    /// client's parameters (a 10-bit client window) and used both ways.
    @Test func subprotocolAndDeflateAreNegotiated() async throws {
        let server = try await H2WebSocketTestServer.start()
        let result = await server.python("""
            from wsproto.extensions import PerMessageDeflate
            client = H2Client(port, tls=tls)
            ws = client.open_websocket("/ws/proto", subprotocols=["x", "chat.v2"],
                                       deflate=PerMessageDeflate(client_max_window_bits=10))
            print("protocol", ws.headers.get("sec-websocket-protocol"))
            print("extensions", ws.headers.get("sec-websocket-extensions"))
            text = "compress me " * 10000
            ws.send_text(text)
            kind, echoed = ws.receive_message()
            print("echo", kind, echoed == text)
            ws.close()
            print("close", ws.receive_message())
            client.close()
            """)
        _ = await server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == """
            protocol chat.v2
            extensions permessage-deflate; server_max_window_bits=15; client_max_window_bits=10
            echo text True
            close ('close', (1000, ''))

            """, "\(result.text)")
    }

    /// Refusals are ordinary responses with END_STREAM, and the connection goes on: an origin
    /// not allowed (403), no version (426 naming 13), an unknown `:protocol` and a plain
    /// CONNECT (501), a GET to a WebSocket route (400), extended CONNECT to a GET route (405).
    @Test func refusalsAreResponses() async throws {
        let server = try await H2WebSocketTestServer.start()
        let result = await server.python("""
            client = H2Client(port, tls=tls)
            def refused(**options):
                try:
                    client.open_websocket(**options)
                    return "accepted"
                except Refused as error:
                    return error.status, error.headers.get("sec-websocket-version")
            print("origin", refused(path="/ws/origin", origin="https://evil.example"))
            print("version", refused(path="/ws", version=None))
            print("protocol", refused(path="/ws", protocol="chat"))
            print("hello", refused(path="/hello"))
            ws = client.open_websocket("/ws/origin", origin="https://good.example")
            print("good origin", ws.headers[":status"])
            plain = client.send_raw_headers([(":method", "CONNECT"), (":authority", "example.com:443")])
            state = client.streams[plain]
            client.pump_until(lambda: state.ended, "plain CONNECT")
            print("plain", state.headers[":status"])
            print("get", client.get("/ws"))
            print("after", client.get("/hello"))
            client.close()
            """)
        _ = await server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text.hasPrefix("""
            origin (403, None)
            version (426, '13')
            protocol (501, None)
            hello (405, None)
            good origin 200
            plain 501
            get (400, 
            """), "\(result.text)")
        #expect(result.text.hasSuffix("after (200, b'Hello, World!')\n"), "\(result.text)")
    }

    /// Without WebSocket routes the setting is not announced, and a request with `:protocol`
    /// is malformed (RFC 8441 §4): the stream is reset with PROTOCOL_ERROR.
    @Test func protocolWithoutTheSettingIsAStreamError() async throws {
        let server = try await H2WebSocketTestServer.start(webSocketRoutes: false)
        let result = await server.python("""
            import h2.config
            client = H2Client(port, tls=tls)
            print("setting", client.connect_protocol_enabled)
            client.conn.config.validate_outbound_headers = False
            stream = client.send_raw_headers([(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                                              (":path", "/ws"), (":authority", "x"), ("sec-websocket-version", "13")])
            state = client.streams[stream]
            client.pump_until(lambda: state.reset is not None or state.headers is not None, "the reset")
            print("reset", int(state.reset) if state.reset is not None else state.headers)
            print("after", client.get("/hello"))
            client.close()
            """)
        _ = await server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "setting False\nreset 1\nafter (200, b'Hello, World!')\n", "\(result.text)")
    }

    /// RFC 8441 §4 with the setting announced: `:protocol` needs CONNECT, and an extended
    /// CONNECT needs `:scheme` and `:path`; anything else is malformed (RST_STREAM
    /// PROTOCOL_ERROR), and the connection goes on.
    @Test func malformedExtendedConnectIsAStreamError() async throws {
        let server = try await H2WebSocketTestServer.start()
        let result = await server.python("""
            client = H2Client(port, tls=tls)
            client.conn.config.validate_outbound_headers = False
            client.conn.config.normalize_outbound_headers = False
            def outcome(headers):
                stream = client.send_raw_headers(headers)
                state = client.streams[stream]
                client.pump_until(lambda: state.reset is not None or state.headers is not None, "an answer")
                return int(state.reset) if state.reset is not None else state.headers[":status"]
            print("get with :protocol", outcome([(":method", "GET"), (":protocol", "websocket"), (":scheme", "http"),
                                                 (":path", "/ws"), (":authority", "x")]))
            print("no :path", outcome([(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                                       (":authority", "x")]))
            print("no :scheme", outcome([(":method", "CONNECT"), (":protocol", "websocket"), (":path", "/ws"),
                                         (":authority", "x")]))
            print("empty :protocol", outcome([(":method", "CONNECT"), (":protocol", ""), (":scheme", "http"),
                                              (":path", "/ws"), (":authority", "x")]))
            print("after", client.get("/hello"))
            client.close()
            """)
        _ = await server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == """
            get with :protocol 1
            no :path 1
            no :scheme 1
            empty :protocol 1
            after (200, b'Hello, World!')

            """, "\(result.text)")
    }

    /// RST_STREAM from the peer mid-session reaches the driver as the transport's end (the
    /// handler hears 1006), and the connection goes on.
    @Test func resetStreamEndsTheSession() async throws {
        let server = try await H2WebSocketTestServer.start(tls: true)
        let result = await server.python("""
            client = H2Client(port, tls=tls)
            ws = client.open_websocket("/ws")
            ws.send_text("one")
            print("text", ws.receive_message())
            ws.reset()
            print("get", client.get("/hello"))
            client.close()
            """)
        let closes = await server.waitForCloses { $0.count == 1 }
        _ = await server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "text ('text', 'one')\nget (200, b'Hello, World!')\n", "\(result.text)")
        #expect(closes == [1006])
    }

    /// Server shutdown sends Close 1001 on the stream (after GOAWAY); the peer's Close ends
    /// it within the grace period, no connection closed by force.
    @Test func shutdownSendsGoingAwayOnTheStream() async throws {
        let server = try await H2WebSocketTestServer.start()
        let marker = NSTemporaryDirectory() + "h2ws-ready-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        async let peer = server.python("""
            client = H2Client(port, tls=tls)
            ws = client.open_websocket("/ws")
            ws.send_text("ready")
            print("text", ws.receive_message())
            open(\(String(reflecting: marker)), "w").close()
            kind, payload = ws.receive_message(timeout=20)
            print("close", kind, payload[0])
            ws.close(1001)
            print("end", ws.wait_end())
            print("goaway", client.goaway is not None)
            client.close()
            """)
        // Shut down once the session is open (the echo came back).
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: marker) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let started = ContinuousClock.now
        let forced = await server.server.shutdown(gracePeriod: .seconds(8))
        let elapsed = ContinuousClock.now - started
        let result = await peer
        await server.group.shutdown()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "text ('text', 'ready')\nclose close 1001\nend end\ngoaway True\n", "\(result.text)")
        #expect(forced == 0)
        #expect(elapsed < .seconds(8))
    }

    /// The heartbeat runs on the stream's own timer: a peer that never reads (so never
    /// answers the ping) has its stream reset (RST_STREAM CANCEL), not before 0.8 s.
    @Test func silentPeerStreamIsResetOnTime() async throws {
        let server = try await H2WebSocketTestServer.start()
        let result = await server.python("""
            import time
            client = H2Client(port, tls=tls)
            ws = client.open_websocket("/ws/beat")
            started = time.monotonic()
            time.sleep(2.5)   # reads nothing: the server's ping goes unanswered
            code = ws.wait_end(timeout=15)
            print("reset", code, time.monotonic() - started >= 0.75)
            print("get", client.get("/hello"))
            client.close()
            """)
        let closes = await server.waitForCloses { $0.count == 1 }
        _ = await server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "reset 8 True\nget (200, b'Hello, World!')\n", "\(result.text)")
        #expect(closes == [1006])
    }

    /// Broadcast over HTTP/2 streams with back-pressure: a member whose connection reads
    /// nothing fills its stream's window, then its outbound limit, and is closed by the
    /// route's policy, while the member that reads gets every message.
    @Test func stalledMemberMeetsThePolicyWhileTheOtherReceivesAll() async throws {
        let server = try await H2WebSocketTestServer.start()
        let marker = NSTemporaryDirectory() + "h2ws-joined-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        async let peer = server.python("""
            import os, time
            stalled_client = H2Client(port, tls=tls)
            stalled = stalled_client.open_websocket("/ws/room")
            client = H2Client(port, tls=tls)
            reader = client.open_websocket("/ws/room")
            open(\(String(reflecting: marker)), "w").close()
            count = 0
            while count < 200:
                kind, payload = reader.receive_message(timeout=30)
                assert kind == "binary" and len(payload) == 8192, (kind, len(payload))
                count += 1
            print("reader", count)
            client.close()
            # The stalled connection reads now: fewer than 200 messages, then the Close.
            got, ending = 0, None
            while ending is None:
                kind, payload = stalled.receive(timeout=30)
                if kind == "binary":
                    got += 1
                else:
                    ending = (kind, payload)
            print("stalled", got < 200, ending[0], ending[1][0] if ending[0] == "close" else ending[1])
            stalled_client.close()
            """)
        let deadline = ContinuousClock.now + .seconds(20)
        while (!FileManager.default.fileExists(atPath: marker) || server.room.memberCount < 2) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(server.room.memberCount == 2)
        let message = [UInt8](repeating: 0x61, count: 8192)
        for _ in 0..<200 {
            server.room.publish(binary: message)
            try await Task.sleep(for: .milliseconds(2))
        }
        let result = await peer
        let closes = await server.waitForCloses { $0.count == 2 }
        _ = await server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "reader 200\nstalled True close 1013\n", "\(result.text)")
        #expect(closes.count == 2)
    }

    /// A handler that reads nothing pauses the stream's reading: the peer can send only about
    /// the stream's window (plus the small inbound queue) and then waits; other streams work.
    @Test func floodingPeerIsBoundedByTheStreamWindow() async throws {
        let server = try await H2WebSocketTestServer.start()
        let result = await server.python("""
            client = H2Client(port, tls=tls)
            ws = client.open_websocket("/ws/hold")
            conn = client.conn
            sent, quiet = 0, 0
            chunk = ws.protocol.send_data(b"x" * 16000, fin=True)
            while sent < (8 << 20) and quiet < 10:
                if conn.local_flow_control_window(ws.stream_id) >= len(chunk):
                    ws.send_bytes(chunk)
                    sent += len(chunk)
                    quiet = 0
                else:
                    client.pump(0.2)
                    quiet += 1
            print("bounded", sent < (1 << 20), sent)
            print("get", client.get("/hello"))
            ws.reset()
            client.close()
            """)
        _ = await server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text.hasPrefix("bounded True"), "\(result.text)")
        #expect(result.text.hasSuffix("get (200, b'Hello, World!')\n"), "\(result.text)")
    }
}
}
