#!/usr/bin/env python3
"""WebSocket peers for the Epsilon WebSocket client's tests, on 127.0.0.1.

    ws_peer.py echo [--port N] [--tls CERT KEY] [--no-compression]
        A Python `websockets` server: echoes every message. Path /headers answers with the
        request's fields as JSON (names lower-cased) and the chosen subprotocol; /close4001
        closes with 4001 "bye"; /count sends the number of connections so far. Subprotocol
        "chat" is accepted when offered.
    ws_peer.py proxy [--port N] [--refuse STATUS]
        A minimal HTTP CONNECT proxy (RFC 9110 §9.3.6): tunnels to the requested host:port, or
        answers every CONNECT with STATUS. Counts tunnels on standard error.
    ws_peer.py scripted MODE [--port N]
        A raw socket server that answers the handshake with a scripted fault (see FAULTS).

Prints "PORT <n>" on standard output once listening, then serves until killed.
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import ssl
import struct
import sys
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ready(port):
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()


async def echo(args):
    from websockets.asyncio.server import serve
    from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

    connections = 0

    async def handler(ws):
        nonlocal connections
        connections += 1
        path = ws.request.path
        if path == "/headers":
            fields = {name.lower(): value for name, value in ws.request.headers.raw_items()}
            await ws.send(json.dumps({"headers": fields, "subprotocol": ws.subprotocol}))
            await ws.wait_closed()
            return
        if path == "/close4001":
            await ws.close(4001, "bye")
            return
        if path == "/count":
            await ws.send(str(connections))
        try:
            async for message in ws:
                await ws.send(message)
        except Exception:
            pass

    context = None
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
    extensions = [] if args.no_compression else [ServerPerMessageDeflateFactory()]
    async with serve(handler, "127.0.0.1", args.port, ssl=context, extensions=extensions,
                     subprotocols=["chat"], select_subprotocol=lambda conn, offered: "chat" if "chat" in offered else None,
                     max_size=64 << 20, ping_interval=None, compression=None) as server:
        ready(server.sockets[0].getsockname()[1])
        await asyncio.Future()


def frame(opcode, payload, fin=True, rsv1=False, mask=None):
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    masked = 0x80 if mask is not None else 0
    if n < 126:
        head = struct.pack("!BB", first, masked | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, masked | 126, n)
    else:
        head = struct.pack("!BBQ", first, masked | 127, n)
    if mask is not None:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def deflate(data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


# Each fault: (response builder, frames after the handshake).
def response(key, accept=None, extensions=None, status="101 Switching Protocols"):
    accept = accept or base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
    lines = [f"HTTP/1.1 {status}", "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Accept: {accept}"]
    if extensions:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


FAULTS = {
    # A wrong Sec-WebSocket-Accept (RFC 6455 §4.1 item 4).
    "bad-accept": lambda key, offers: (response(key, accept="dGhlIHNhbXBsZSBub25jZQ=="), b""),
    # Not 101.
    "status-404": lambda key, offers: (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", b""),
    # Not HTTP at all.
    "garbage": lambda key, offers: (b"SSH-2.0-OpenSSH_9.2\r\n\x00\x01\x02\r\n\r\n", b""),
    # A masked server frame (§5.1).
    "masked": lambda key, offers: (response(key), frame(1, b"hi", mask=b"\x01\x02\x03\x04")),
    # Text that is not UTF-8 (§8.1).
    "bad-utf8": lambda key, offers: (response(key), frame(1, b"ok \xc3\x28 no")),
    # Opcode 3 is reserved (§5.2).
    "reserved-opcode": lambda key, offers: (response(key), frame(3, b"x")),
    # RSV1 without a negotiated extension (§5.2).
    "rsv1": lambda key, offers: (response(key), frame(1, b"x", rsv1=True)),
    # 64 MiB of zeros deflated into ~64 KiB: past the client's message limit once inflated.
    "bomb": lambda key, offers: (response(key, extensions="permessage-deflate"), frame(2, deflate(bytes(64 << 20)), rsv1=True)),
    # An extension the client did not offer (§4.1 item 5).
    "unoffered-extension": lambda key, offers: (response(key, extensions="x-webkit-deflate-frame"), b""),
    # A good message, then a reset without Close.
    "reset": lambda key, offers: (response(key), frame(1, b"before reset")),
}


async def scripted(args):
    async def handle(reader, writer):
        try:
            request = await reader.readuntil(b"\r\n\r\n")
        except Exception:
            writer.close()
            return
        key = b""
        offers = ""
        for line in request.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
            if name.strip().lower() == b"sec-websocket-extensions":
                offers = value.strip().decode()
        head, frames = FAULTS[args.mode](key, offers)
        writer.write(head + frames)
        await writer.drain()
        if args.mode == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_LINGER, struct.pack("ii", 1, 0))
            writer.close()
            return
        try:
            # Read what the client sends (its Close) until it closes, then close.
            while await asyncio.wait_for(reader.read(65536), 10):
                pass
        except Exception:
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", args.port)
    ready(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


async def proxy(args):
    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except Exception:
            pass
        finally:
            writer.close()

    async def handle(reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except Exception:
            writer.close()
            return
        method, target, _ = head.split(b"\r\n")[0].split(b" ", 2)
        if method != b"CONNECT" or args.refuse:
            writer.write(f"HTTP/1.1 {args.refuse or 405} No\r\nContent-Length: 0\r\n\r\n".encode())
            await writer.drain()
            writer.close()
            return
        host, _, port = target.decode().rpartition(":")
        upstream_reader, upstream_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        sys.stderr.write(f"tunnel {target.decode()}\n")
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", args.port)
    ready(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("echo")
    e.add_argument("--port", type=int, default=0)
    e.add_argument("--tls", nargs=2)
    e.add_argument("--no-compression", action="store_true")
    p = sub.add_parser("proxy")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--refuse", type=int, default=0)
    s = sub.add_parser("scripted")
    s.add_argument("mode", choices=sorted(FAULTS))
    s.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    runner = {"echo": echo, "proxy": proxy, "scripted": scripted}[args.command]
    asyncio.run(runner(args))


if __name__ == "__main__":
    main()
