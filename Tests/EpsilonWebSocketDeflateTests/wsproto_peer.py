"""A wsproto peer for the Epsilon WebSocket round-trip tests.

Usage: wsproto_peer.py server|client none|takeover|no-takeover
Talks over stdin/stdout, one line each way per step, bytes as hex:
  server: <- request hex; -> {"out"}; <- frames hex; -> {"messages", "out"}
  client: -> {"out": request}; <- response + frames hex; -> {"messages", "out"}
Every complete message it receives is echoed back (large ones in two fragments), Pings are
answered and a Close is answered (server) or sent after the echoes (client).
"""
import json
import sys

from wsproto import WSConnection
from wsproto.connection import ConnectionType
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Ping, Request,
                            TextMessage)
from wsproto.extensions import PerMessageDeflate

mode, deflate = sys.argv[1], sys.argv[2]


def extensions():
    if deflate == "none":
        return []
    no_takeover = deflate == "no-takeover"
    return [PerMessageDeflate(client_no_context_takeover=no_takeover, server_no_context_takeover=no_takeover)]


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def read_hex():
    return bytes.fromhex(sys.stdin.readline().strip())


def pump(ws, data, messages):
    """Feeds data, echoes finished messages, answers pings and closes. Returns bytes to send."""
    out = b""
    ws.receive_data(data)
    partial = {}
    for event in ws.events():
        if isinstance(event, (TextMessage, BytesMessage)):
            kind = "text" if isinstance(event, TextMessage) else "binary"
            partial.setdefault(kind, [])
            partial[kind].append(event.data)
            if event.message_finished:
                parts = partial.pop(kind)
                whole = "".join(parts) if kind == "text" else b"".join(parts)
                raw = whole.encode("utf-8") if kind == "text" else whole
                messages.append({"type": kind, "hex": raw.hex(), "fragments": len(parts)})
                cls = TextMessage if kind == "text" else BytesMessage
                if len(whole) > 1000:
                    half = len(whole) // 2
                    out += ws.send(cls(data=whole[:half], message_finished=False))
                    out += ws.send(cls(data=whole[half:], message_finished=True))
                else:
                    out += ws.send(cls(data=whole, message_finished=True))
        elif isinstance(event, Ping):
            messages.append({"type": "ping", "hex": bytes(event.payload).hex()})
            out += ws.send(event.response())
        elif isinstance(event, CloseConnection):
            messages.append({"type": "close", "code": event.code, "reason": event.reason})
            if mode == "server":
                out += ws.send(event.response())
        elif isinstance(event, AcceptConnection):
            messages.append({"type": "accept", "extensions": [str(e.name) for e in event.extensions]})
    return out


if mode == "server":
    ws = WSConnection(ConnectionType.SERVER)
    ws.receive_data(read_hex())
    out = b""
    for event in ws.events():
        if isinstance(event, Request):
            out += ws.send(AcceptConnection(extensions=extensions(), subprotocol=None))
    reply({"out": out.hex()})
    messages = []
    out = pump(ws, read_hex(), messages)
    reply({"messages": messages, "out": out.hex()})
else:
    ws = WSConnection(ConnectionType.CLIENT)
    reply({"out": ws.send(Request(host="localhost", target="/chat", extensions=extensions())).hex()})
    messages = []
    out = pump(ws, read_hex(), messages)
    from wsproto.frame_protocol import CloseReason
    out += ws.send(CloseConnection(code=CloseReason.NORMAL_CLOSURE, reason="done"))
    reply({"messages": messages, "out": out.hex()})
