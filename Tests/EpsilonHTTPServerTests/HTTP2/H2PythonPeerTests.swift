import Foundation
import Testing

/// Nested in ``SocketSuites``: socket suites run one at a time (process-wide figures).
extension SocketSuites {
    /// Python's `httpx` (with `h2`) and the `h2` state machine over raw sockets (pip packages
    /// `httpx`, `h2`) against the HTTP/2 session over loopback.
    @Suite struct H2PythonPeerTests {
        static func script(_ text: String) -> String {
            let path = NSTemporaryDirectory() + "h2py-\(UUID().uuidString).py"
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            return path
        }

        /// Several requests on one httpx client (one connection), prior knowledge and TLS: 0 B,
        /// 1 MiB with a length, 1 MiB streamed without one, a streamed response, byte for byte.
        @Test(arguments: [false, true])
        func httpxSeveralRequests(tls: Bool) async throws {
            let server = try await H2SocketServer.start(tls: tls)
            let path = Self.script("""
                import sys, httpx
                base = sys.argv[1]
                big = bytes(i % 251 for i in range(1 << 20))
                with httpx.Client(http1=False, http2=True, verify=False, timeout=20) as client:
                    r = client.get(base + "/hello")
                    assert r.http_version == "HTTP/2" and r.content == b"Hello, World!", (r.http_version, r.content)
                    r = client.post(base + "/echo", content=big)
                    assert r.content == big, len(r.content)
                    def pieces():
                        for i in range(16):
                            yield big[i * 65536:(i + 1) * 65536]
                    r = client.post(base + "/echo", content=pieces())
                    assert r.content == big, len(r.content)
                    r = client.post(base + "/echo", content=b"")
                    assert r.status_code == 200 and r.content == b""
                    r = client.get(base + "/stream/300000")
                    assert r.content == bytes(i % 256 for i in range(300000))
                    connections = len(client._transport._pool.connections)
                print("ok", connections)
                """)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let result = await H2Peer.run("/usr/bin/env", ["python3", path, server.url("")])
            await server.stop()
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.text == "ok 1\n", "\(result.text)")
        }

        /// A handler that stops reading stops the peer: the client can send exactly the stream's
        /// window and no more; RST_STREAM then cancels the handler, and the connection goes on.
        @Test func stalledHandlerStopsThePeerAndResetCancelsIt() async throws {
            let server = try await H2SocketServer.start()
            let path = Self.script("""
                import socket, sys, time
                import h2.connection, h2.config, h2.events
                sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
                conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
                conn.initiate_connection()
                sock.sendall(conn.data_to_send())
                def pump(timeout):
                    sock.settimeout(timeout)
                    try:
                        data = sock.recv(65536)
                    except socket.timeout:
                        return []
                    events = conn.receive_data(data)
                    sock.sendall(conn.data_to_send())
                    return events
                stalled = conn.get_next_available_stream_id()
                conn.send_headers(stalled, [(":method", "POST"), (":path", "/stall"), (":scheme", "http"), (":authority", "x")])
                sock.sendall(conn.data_to_send())
                pump(0.5)
                sent, quiet = 0, 0
                while sent < (1 << 20) and quiet < 5:
                    window = min(conn.local_flow_control_window(stalled), conn.max_outbound_frame_size)
                    if window > 0:
                        conn.send_data(stalled, b"x" * window)
                        sock.sendall(conn.data_to_send())
                        sent += window
                        quiet = 0
                    else:
                        pump(0.2)
                        quiet += 1
                print("sent", sent, "window", conn.local_flow_control_window(stalled))
                conn.reset_stream(stalled)
                hello = conn.get_next_available_stream_id()
                conn.send_headers(hello, [(":method", "GET"), (":path", "/hello"), (":scheme", "http"), (":authority", "x")], end_stream=True)
                sock.sendall(conn.data_to_send())
                body, done, deadline = b"", False, time.time() + 10
                while not done and time.time() < deadline:
                    for event in pump(0.5):
                        if isinstance(event, h2.events.DataReceived) and event.stream_id == hello:
                            body += event.data
                            conn.acknowledge_received_data(event.flow_controlled_length, hello)
                        if isinstance(event, h2.events.StreamEnded) and event.stream_id == hello:
                            done = True
                print("hello", body.decode())
                """)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let result = await H2Peer.run("/usr/bin/env", ["python3", path, String(server.port)])
            let aborted = await server.wait { $0.aborted.contains("/stall") }
            let received = server.dispatcher.record.withLock { $0.bodyBytes["/stall"] }
            await server.stop()
            #expect(result.status == 0, "\(result.stderr)")
            // The session's stream window (HTTPServerConfiguration.requestBodyBuffer, 64 KiB).
            #expect(result.text.contains("sent 65536 window 0"), "\(result.text)")
            #expect(received == 65_536)
            #expect(aborted)
            #expect(result.text.contains("hello Hello, World!"), "\(result.text)")
        }
    }
}
