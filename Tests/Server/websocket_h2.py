"""Suite "websocket-h2": WebSocket over HTTP/2 (RFC 8441 extended CONNECT) against `epsilon
serve`: /ws/echo over h2c (prior knowledge, --h2c) and over TLS with ALPN h2 — the setting
announced, text, binary and 1 MiB echoes, ping, a GET on another stream meanwhile, the close
handshake — and /ws/chat: a message from an HTTP/2 member reaches an HTTP/1.1 member and back.
Close 1001 on the stream on SIGTERM. Needs: h2, wsproto, websockets (pip), openssl."""
import tempfile
import warnings

from websockets.sync.client import connect as ws_connect

from epsilon_suite import Server, Suite, make_tls
from h2_websocket import H2Client

warnings.filterwarnings("ignore", category=DeprecationWarning)
suite = Suite("websocket-h2")
work = tempfile.mkdtemp(prefix="epsilon-websocket-h2.")
MIB = 1 << 20


def echo_checks(label, port, tls):
    client = H2Client(port, tls=tls)
    suite.check(f"{label}: SETTINGS_ENABLE_CONNECT_PROTOCOL=1", client.connect_protocol_enabled, client.server_settings)
    ws = client.open_websocket("/ws/echo")
    suite.check(f"{label}: extended CONNECT answered 200", ws.headers.get(":status") == "200", ws.headers)
    ws.send_text("héllo over h2")
    got = ws.receive_message()
    suite.check(f"{label}: text echo", got == ("text", "héllo over h2"), got)
    ws.send_binary(bytes(range(256)))
    got = ws.receive_message()
    suite.check(f"{label}: binary echo", got == ("binary", bytes(range(256))), got[:1])
    big = bytes(i % 253 for i in range(MIB))
    ws.send_binary(big)
    kind, data = ws.receive_message(timeout=30)
    suite.check(f"{label}: 1 MiB echo (flow control both ways)", kind == "binary" and data == big, (kind, len(data)))
    ws.ping(b"are you there")
    pong = None
    for _ in range(5):
        kind, payload = ws.receive()
        if kind == "pong":
            pong = payload
            break
    suite.check(f"{label}: ping answered", pong == b"are you there", pong)
    status, body = client.get("/")
    suite.check(f"{label}: GET / on another stream meanwhile", status == 200 and len(body) > 0, status)
    ws.close(1000, "done")
    got = ws.receive_message()
    suite.check(f"{label}: close handshake", got == ("close", (1000, "")), got)
    suite.check(f"{label}: stream ended with END_STREAM", ws.wait_end() == "end", ws.state.reset)
    client.close()


def chat_checks(port, ca):
    client = H2Client(port, tls=True)
    h2_member = client.open_websocket("/ws/chat")
    with ws_connect(f"wss://127.0.0.1:{port}/ws/chat", ssl=_context(ca), open_timeout=10) as h1_member:
        # Both members are in the room once the h1 member is open (the h2 one joined first).
        h2_member.send_text("from h2")
        got = h1_member.recv(timeout=10)
        suite.check("chat: HTTP/2 member reaches HTTP/1.1 member", got == "from h2", got)
        h1_member.send("from h1")
        seen = []
        for _ in range(3):
            kind, payload = h2_member.receive_message(timeout=10)
            seen.append(payload)
            if payload == "from h1":
                break
        suite.check("chat: HTTP/1.1 member reaches HTTP/2 member", "from h1" in seen, seen)
    h2_member.close()
    h2_member.receive_message()
    client.close()


def _context(ca):
    import ssl
    context = ssl.create_default_context(cafile=ca)
    return context


def shutdown_check(port, server):
    client = H2Client(port, tls=False)
    ws = client.open_websocket("/ws/echo")
    ws.send_text("ping")
    ws.receive_message()
    server.proc.terminate()
    got = ws.receive_message(timeout=10)
    suite.check("SIGTERM: Close 1001 on the stream", got[0] == "close" and got[1][0] == 1001, got)
    ws.close(1001)
    end = ws.wait_end(timeout=10)
    suite.check("SIGTERM: stream ended after the handshake", end == "end", end)
    suite.check("SIGTERM: GOAWAY sent", client.goaway is not None, client.goaway)
    client.close()
    server.proc.wait(timeout=15)
    suite.check("SIGTERM: server exited", server.proc.returncode == 0, server.proc.returncode)


ca, cert, key = make_tls(work)
with Server("--h2c") as server:
    try:
        echo_checks("h2c", server.port, tls=False)
    except Exception as error:
        suite.error("h2c echo", error)
with Server("--cert", cert, "--key", key) as server:
    try:
        echo_checks("h2 over TLS", server.port, tls=True)
    except Exception as error:
        suite.error("h2 over TLS echo", error)
    try:
        chat_checks(server.port, ca)
    except Exception as error:
        suite.error("chat", error)
server = Server("--h2c", "--grace-period", "5")
try:
    shutdown_check(server.port, server)
except Exception as error:
    suite.error("SIGTERM", error)
finally:
    server.kill()
suite.finish()
