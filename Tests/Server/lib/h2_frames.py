"""A raw HTTP/2 client for hostile connection scripts: builds frames by hand (so it can send what a
correct library refuses to) and reads the server's frames, answering its SETTINGS and PINGs."""
import select
import socket
import ssl
import struct
import time

import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
          "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
          "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]
CODE = {name: i for i, name in enumerate(ERRORS)}


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def settings(*pairs, ack=False):
    return frame(SETTINGS, ACK if ack else 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def window_update(stream, increment):
    return frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", increment))


def rst(stream, code=CODE["CANCEL"]):
    return frame(RST_STREAM, 0, stream, struct.pack(">I", code))


def request_headers(path="/hello", method="GET", authority="localhost", extra=()):
    return [(":method", method), (":scheme", "http"), (":path", path), (":authority", authority), *extra]


class Outcome:
    """What the server did: frames received, the GOAWAY and RST_STREAMs, statuses, close."""

    def __init__(self):
        self.goaway = None  # (last stream id, error name)
        self.resets = {}  # stream → error name
        self.statuses = {}  # stream → :status
        self.data = {}  # stream → bytes of DATA
        self.ended = set()  # streams the server ended (END_STREAM)
        self.closed = False
        self.blocked = False  # a send did not complete in time: the server stopped reading
        self.frames = []
        self.settings = {}
        self.window_updates = {}

    def describe(self):
        parts = []
        if self.goaway:
            parts.append(f"GOAWAY {self.goaway[1]} (last stream {self.goaway[0]})")
        for what, table in (("RST_STREAM", self.resets), (":status", self.statuses)):
            items = list(table.items())
            parts += [f"{what} {v} on {s}" for s, v in items[:4]]
            if len(items) > 4:
                parts.append(f"… {len(items)} {what} in all")
        if self.closed:
            parts.append("closed")
        if self.blocked:
            parts.append("stopped reading")
        return ", ".join(parts) or f"nothing ({len(self.frames)} frames)"


class H2Client:
    def __init__(self, port, tls_ca=None, preface=True, timeout=5.0, alpn=("h2",)):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            ctx.set_alpn_protocols(list(alpn))
            raw = ctx.wrap_socket(raw, server_hostname="localhost")
        self.sock = raw
        self.buf = b""
        self.out = Outcome()
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.decoder.max_allowed_table_size = 1 << 20
        self.pending_headers = {}
        if preface:
            self.send(PREFACE + settings())

    def send(self, data):
        """Sends everything, or notes that the server closed; bounded by the socket timeout."""
        try:
            self.sock.sendall(data)
            return True
        except socket.timeout:
            self.out.blocked = True
            return False
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.out.closed = True
            return False

    def headers(self, stream, fields, end_stream=True, flags=0, raw_block=None):
        block = raw_block if raw_block is not None else self.encoder.encode(fields)
        return self.send(frame(HEADERS, END_HEADERS | (END_STREAM if end_stream else 0) | flags, stream, block))

    def _recv(self, timeout):
        if self.out.closed:
            return False
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            ready = True
        else:
            ready = select.select([self.sock], [], [], max(0, timeout))[0]
        if not ready:
            return False
        try:
            data = self.sock.recv(1 << 16)
        except (ConnectionResetError, ssl.SSLError, OSError):
            data = b""
        if not data:
            self.out.closed = True
            return False
        self.buf += data
        return True

    def _parse(self):
        while len(self.buf) >= 9:
            length = int.from_bytes(self.buf[:3], "big")
            if len(self.buf) < 9 + length:
                return
            ftype, flags = self.buf[3], self.buf[4]
            stream = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
            payload = self.buf[9:9 + length]
            self.buf = self.buf[9 + length:]
            self._handle(ftype, flags, stream, payload)

    def _handle(self, ftype, flags, stream, payload):
        out = self.out
        out.frames.append((ftype, flags, stream, len(payload)))
        if ftype == SETTINGS and not flags & ACK:
            for i in range(0, len(payload) - 5, 6):
                k, v = struct.unpack(">HI", payload[i:i + 6])
                out.settings[k] = v
            self.send(settings(ack=True))
        elif ftype == PING and not flags & ACK:
            self.send(frame(PING, ACK, 0, payload))
        elif ftype == GOAWAY:
            last, code = struct.unpack(">II", payload[:8])
            out.goaway = (last & 0x7FFFFFFF, ERRORS[code] if code < len(ERRORS) else str(code))
        elif ftype == RST_STREAM:
            code = struct.unpack(">I", payload[:4])[0]
            out.resets[stream] = ERRORS[code] if code < len(ERRORS) else str(code)
        elif ftype == WINDOW_UPDATE:
            out.window_updates[stream] = out.window_updates.get(stream, 0) + struct.unpack(">I", payload[:4])[0]
        elif ftype in (HEADERS, CONTINUATION):
            if ftype == HEADERS:
                pad = payload[0] if flags & PADDED else 0
                body = payload[(1 if flags & PADDED else 0) + (5 if flags & PRIORITY_FLAG else 0):len(payload) - pad]
                self.pending_headers[stream] = body
            else:
                self.pending_headers[stream] = self.pending_headers.get(stream, b"") + payload
            if flags & END_HEADERS:
                for k, v in self.decoder.decode(self.pending_headers.pop(stream)):
                    if k == ":status":
                        out.statuses[stream] = int(v)
            if flags & END_STREAM and ftype == HEADERS:
                out.ended.add(stream)
        elif ftype == DATA:
            pad = payload[0] if flags & PADDED else 0
            out.data[stream] = out.data.get(stream, b"") + payload[(1 if flags & PADDED else 0):len(payload) - pad]
            if payload:
                self.send(window_update(0, len(payload)) + window_update(stream, len(payload)))
            if flags & END_STREAM:
                out.ended.add(stream)

    def read_until(self, done, timeout=5.0):
        """Reads frames until `done(outcome)` is true, the connection closes, or `timeout`."""
        deadline = time.monotonic() + timeout
        while not done(self.out) and not self.out.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if self._recv(remaining):
                self._parse()
        self._parse()
        return self.out

    def settle(self, timeout=1.0):
        """Reads the server's opening frames (its SETTINGS and our ACK's echo)."""
        return self.read_until(lambda o: any(f[0] == SETTINGS and f[1] & ACK for f in o.frames), timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
