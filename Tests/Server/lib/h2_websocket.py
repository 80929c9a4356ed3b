"""WebSocket over HTTP/2 (RFC 8441 extended CONNECT) as a client, for the tests: Python's `h2`
state machine over a socket (h2c prior knowledge, or TLS with ALPN h2) and wsproto's frame
layer (`wsproto.frame_protocol`, masked client frames, optional permessage-deflate).

    client = H2Client(port, tls=False)
    ws = client.open_websocket("/ws/echo")          # status 200 or raises Refused
    ws.send_text("hi"); assert ws.receive() == ("text", "hi")
    ws.close(); client.close()

Every wait is bounded by `timeout` (seconds). Data is credited back to the server as it is
read, unless `auto_credit` is off for a stream (then `credit()` returns it)."""
import collections
import socket
import ssl
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
from hyperframe.frame import GoAwayFrame
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol, Opcode


class Refused(Exception):
    """The server answered the CONNECT with a status other than 200 (or reset the stream)."""

    def __init__(self, status, headers, body):
        super().__init__(f"status {status}: {body[:200]!r}")
        self.status, self.headers, self.body = status, headers, body


class StreamState:
    def __init__(self):
        self.headers = None
        self.data = collections.deque()
        self.ended = False
        self.reset = None
        self.auto_credit = True
        self.unacked = 0


class H2Client:
    def __init__(self, port, tls=False, host="127.0.0.1", timeout=10.0, settings=None):
        self.timeout = timeout
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["h2"])
            raw = context.wrap_socket(raw, server_hostname="localhost")
            assert raw.selected_alpn_protocol() == "h2", raw.selected_alpn_protocol()
        self.sock = raw
        self.scheme = "https" if tls else "http"
        self.authority = f"localhost:{port}"
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        # h2 closes its whole state on GOAWAY, but RFC 9113 §6.8 lets the streams up to its
        # last stream id finish (a server's drain): after a GOAWAY NO_ERROR keep them going.
        receive_goaway = self.conn._receive_goaway_frame

        def goaway_keeping_streams(frame):
            result = receive_goaway(frame)
            if frame.error_code == 0:
                self.conn.state_machine.state = h2.connection.ConnectionState.CLIENT_OPEN
            return result
        self.conn._frame_dispatch_table[GoAwayFrame] = goaway_keeping_streams
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.streams = {}
        self.goaway = None
        self.closed = False
        self.server_settings = {}
        self.flush()
        # The server's SETTINGS (with ENABLE_CONNECT_PROTOCOL) comes first.
        self.pump_until(lambda: h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL in self.server_settings or self.settings_seen,
                        "server SETTINGS", initial=True)

    settings_seen = False

    @property
    def connect_protocol_enabled(self):
        return self.server_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL) == 1

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self, wait):
        """Reads once (up to `wait` seconds) and files the events; False once the socket closed."""
        if self.closed:
            return False
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(1 << 16)
        except (socket.timeout, ssl.SSLWantReadError):
            return True
        except (ConnectionError, ssl.SSLError, OSError):
            self.closed = True
            return False
        if not data:
            self.closed = True
            return False
        for event in self.conn.receive_data(data):
            self.file(event)
        self.flush()
        return True

    def file(self, event):
        if isinstance(event, h2.events.RemoteSettingsChanged):
            self.settings_seen = True
            for code, change in event.changed_settings.items():
                self.server_settings[code] = change.new_value
            return
        stream_id = getattr(event, "stream_id", None)
        state = self.streams.get(stream_id) if stream_id else None
        if isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event

        elif state is None:
            return
        elif isinstance(event, h2.events.ResponseReceived):
            state.headers = dict(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            state.data.append(event.data)
            if state.auto_credit:
                self.conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
            else:
                state.unacked += event.flow_controlled_length
        elif isinstance(event, h2.events.StreamEnded):
            state.ended = True
        elif isinstance(event, h2.events.StreamReset):
            state.reset = event.error_code

    def pump_until(self, condition, what, timeout=None, initial=False):
        deadline = time.monotonic() + (timeout or self.timeout)
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"timed out waiting for {what}")
            if not self.pump(min(left, 0.5)) and not condition():
                raise ConnectionError(f"connection closed waiting for {what}")

    def request(self, method, path, headers=(), end_stream=True):
        stream_id = self.conn.get_next_available_stream_id()
        self.streams[stream_id] = StreamState()
        self.conn.send_headers(stream_id, [(":method", method), (":scheme", self.scheme), (":authority", self.authority),
                                           (":path", path)] + list(headers), end_stream=end_stream)
        self.flush()
        return stream_id

    def get(self, path):
        """A whole GET: (status, body)."""
        stream_id = self.request("GET", path)
        state = self.streams[stream_id]
        self.pump_until(lambda: state.ended or state.reset is not None, f"GET {path}")
        return int(state.headers[":status"]), b"".join(state.data)

    def send_raw_headers(self, headers, end_stream=False):
        """A request with exactly `headers` (pseudo-header fields included); returns the stream id."""
        stream_id = self.conn.get_next_available_stream_id()
        self.streams[stream_id] = StreamState()
        self.conn.send_headers(stream_id, headers, end_stream=end_stream)
        self.flush()
        return stream_id

    def open_websocket(self, path, subprotocols=(), deflate=None, origin=None, version="13", protocol="websocket",
                       extra=()):
        """Extended CONNECT; `deflate` a PerMessageDeflate to offer. Raises Refused unless 200."""
        headers = [(":method", "CONNECT"), (":protocol", protocol), (":scheme", self.scheme), (":path", path),
                   (":authority", self.authority)]
        if version is not None:
            headers.append(("sec-websocket-version", version))
        if subprotocols:
            headers.append(("sec-websocket-protocol", ", ".join(subprotocols)))
        if deflate is not None:
            offer = deflate.offer()
            headers.append(("sec-websocket-extensions", "permessage-deflate" + (f"; {offer}" if isinstance(offer, str) else "")))
        if origin:
            headers.append(("origin", origin))
        headers += list(extra)
        stream_id = self.send_raw_headers(headers)
        state = self.streams[stream_id]
        self.pump_until(lambda: state.headers is not None or state.reset is not None, f"CONNECT {path}")
        if state.reset is not None:
            raise Refused(None, {}, f"stream reset {state.reset}".encode())
        status = int(state.headers[":status"])
        if status != 200:
            self.pump_until(lambda: state.ended or state.reset is not None, "refusal body")
            raise Refused(status, state.headers, b"".join(state.data))
        extensions = []
        if deflate is not None and state.headers.get("sec-websocket-extensions"):
            deflate.finalize(state.headers["sec-websocket-extensions"])
            extensions = [deflate]
        return H2WebSocket(self, stream_id, state, extensions)

    def close(self):
        try:
            self.conn.close_connection()
            self.flush()
        except Exception:
            pass
        self.sock.close()


class H2WebSocket:
    """One WebSocket on an HTTP/2 stream."""

    def __init__(self, client, stream_id, state, extensions):
        self.client, self.stream_id, self.state = client, stream_id, state
        self.headers = state.headers
        self.protocol = FrameProtocol(client=True, extensions=extensions)
        self.frames = collections.deque()
        self.partial = {}
        self.close_reason = None

    # Sending: DATA within the stream's and the connection's windows.
    def send_bytes(self, data, end_stream=False):
        conn = self.client.conn
        view = memoryview(data)
        while len(view) > 0:
            window = min(conn.local_flow_control_window(self.stream_id), conn.max_outbound_frame_size)
            if window <= 0:
                self.client.pump_until(lambda: conn.local_flow_control_window(self.stream_id) > 0, "send window")
                continue
            conn.send_data(self.stream_id, bytes(view[:window]))
            view = view[window:]
            self.client.flush()
        if end_stream:
            conn.end_stream(self.stream_id)
            self.client.flush()

    def send_text(self, text):
        self.send_bytes(self.protocol.send_data(text, fin=True))

    def send_binary(self, data):
        self.send_bytes(self.protocol.send_data(bytes(data), fin=True))

    def ping(self, payload=b""):
        self.send_bytes(self.protocol.ping(payload))

    def close(self, code=1000, reason=""):
        self.send_bytes(self.protocol.close(code, reason))

    def end_stream(self):
        self.client.conn.end_stream(self.stream_id)
        self.client.flush()

    def reset(self):
        self.client.conn.reset_stream(self.stream_id, error_code=8)  # CANCEL
        self.client.flush()

    # Receiving: whole messages (text, binary), pings, pongs and the close.
    def _parse(self):
        while self.state.data:
            self.protocol.receive_bytes(self.state.data.popleft())
            for frame in self.protocol.received_frames():
                self._take(frame)

    def _take(self, frame):
        if frame.opcode is Opcode.PING:
            self.frames.append(("ping", frame.payload))
            self.send_bytes(self.protocol.pong(frame.payload))
        elif frame.opcode is Opcode.PONG:
            self.frames.append(("pong", frame.payload))
        elif frame.opcode is Opcode.CLOSE:
            code, reason = frame.payload
            self.close_reason = (int(code), reason)
            self.frames.append(("close", self.close_reason))
        else:
            key = "message"
            # A long frame comes in pieces, each with the frame's opcode.
            if key not in self.partial:
                self.partial[key] = ("text" if frame.opcode is Opcode.TEXT else "binary", [frame.payload])
            else:
                self.partial[key][1].append(frame.payload)
            if frame.message_finished:
                kind, parts = self.partial.pop(key)
                joined = "".join(parts) if kind == "text" else b"".join(bytes(p) for p in parts)
                self.frames.append((kind, joined))

    def receive(self, timeout=None):
        """The next (kind, payload): kind is text, binary, ping, pong or close (payload a
        CloseReason-like (code, reason))."""
        def ready():
            self._parse()
            return bool(self.frames) or self.state.ended or self.state.reset is not None
        self.client.pump_until(ready, "a WebSocket frame", timeout=timeout)
        if self.frames:
            kind, payload = self.frames.popleft()
            return kind, payload
        return ("end" if self.state.ended else "reset"), self.state.reset

    def receive_message(self, timeout=None):
        """The next text or binary message (pings answered and skipped, pongs skipped)."""
        while True:
            kind, payload = self.receive(timeout)
            if kind in ("text", "binary", "close", "end", "reset"):
                return kind, payload

    def wait_end(self, timeout=None):
        """Waits for the server's END_STREAM or RST_STREAM; returns 'end' or the reset code."""
        self.client.pump_until(lambda: self.state.ended or self.state.reset is not None, "stream end", timeout=timeout)
        return "end" if self.state.ended else self.state.reset
