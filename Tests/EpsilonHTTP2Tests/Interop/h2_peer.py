"""Python h2 peer for EpsilonHTTP2's interop tests.

Speaks a lock-step protocol with the Swift test over stdin/stdout: each message is one kind
byte (b'D' bytes for the peer, b'E' end with a JSON result) and a 4-byte big-endian length.
The Swift side sends first; this side answers every message with exactly one message.
Usage: h2_peer.py client|server
"""
import json
import struct
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings

BIG = 1 << 20


def read_message():
    head = sys.stdin.buffer.read(5)
    if len(head) < 5:
        sys.exit(3)
    length = struct.unpack(">I", head[1:5])[0]
    data = sys.stdin.buffer.read(length) if length else b""
    return head[0:1], data


def write_message(kind, data):
    sys.stdout.buffer.write(kind + struct.pack(">I", len(data)) + data)
    sys.stdout.buffer.flush()


def pattern(n):
    return bytes(i % 251 for i in range(n))


def checksum(data):
    return [len(data), sum(data) & 0xFFFFFFFF]


class Sender:
    """Sends bodies as flow control allows, then trailers or END_STREAM."""

    def __init__(self, conn):
        self.conn = conn
        self.pending = {}

    def add(self, stream_id, data, trailers=None):
        self.pending[stream_id] = [data, 0, trailers]
        self.pump()

    def pump(self):
        for stream_id in list(self.pending):
            data, offset, trailers = self.pending[stream_id]
            while offset < len(data):
                window = self.conn.local_flow_control_window(stream_id)
                size = min(window, self.conn.max_outbound_frame_size, len(data) - offset)
                if size <= 0:
                    break
                end = offset + size == len(data) and trailers is None
                self.conn.send_data(stream_id, data[offset:offset + size], end_stream=end)
                offset += size
            self.pending[stream_id][1] = offset
            if offset == len(data):
                if trailers is not None:
                    self.conn.send_headers(stream_id, trailers, end_stream=True)
                elif not data:
                    self.conn.end_stream(stream_id)
                del self.pending[stream_id]


def run_client():
    config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
    conn = h2.connection.H2Connection(config=config)
    conn.initiate_connection()
    # A 16 KiB stream window, in force once the peer ACKs it (h2's `initial_values` would
    # assume it in force before the peer even saw it).
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 16384, h2.settings.SettingCodes.ENABLE_PUSH: 1})
    sender = Sender(conn)
    streams = {}

    def request(method, path, body=None, trailers=None, extra=()):
        stream_id = conn.get_next_available_stream_id()
        headers = [(":method", method), (":path", path), (":scheme", "http"), (":authority", "localhost")]
        conn.send_headers(stream_id, headers + list(extra), end_stream=body is None)
        streams[stream_id] = {"path": path, "body": bytearray(), "trailers": {}, "done": False, "pushed": False}
        if body is not None:
            sender.add(stream_id, body, trailers)

    request("GET", "/hello")
    request("POST", "/echo", b"ping-pong", [("x-request-trailer", "sent")])
    request("POST", "/upload", pattern(BIG), None, [("content-length", str(BIG))])
    request("GET", "/big")
    request("GET", "/pushed")
    while True:
        _, data = read_message()
        for event in conn.receive_data(data) if data else []:
            if isinstance(event, h2.events.ResponseReceived):
                streams[event.stream_id]["status"] = dict(event.headers)[":status"]
            elif isinstance(event, h2.events.DataReceived):
                streams[event.stream_id]["body"] += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.TrailersReceived):
                streams[event.stream_id]["trailers"] = dict(event.headers)
            elif isinstance(event, h2.events.StreamEnded):
                streams[event.stream_id]["done"] = True
            elif isinstance(event, h2.events.StreamReset):
                streams.setdefault(event.stream_id, {})["reset"] = int(event.error_code)
                streams[event.stream_id]["done"] = True
            elif isinstance(event, h2.events.PushedStreamReceived):
                streams[event.pushed_stream_id] = {
                    "path": dict(event.headers)[":path"], "body": bytearray(), "trailers": {},
                    "done": False, "pushed": True, "parent": event.parent_stream_id}
        sender.pump()
        if not data:
            state = {k: (v.get("path"), v.get("status"), len(v["body"]), v["done"]) for k, v in streams.items()}
            print("idle:", state, {k: (v[1], len(v[0])) for k, v in sender.pending.items()},
                  [(k, conn.local_flow_control_window(k)) for k in sender.pending], file=sys.stderr, flush=True)
        if len(streams) >= 6 and all(s["done"] for s in streams.values()):
            result = []
            for stream_id, s in sorted(streams.items()):
                result.append({
                    "stream": stream_id, "path": s.get("path"), "status": s.get("status"),
                    "checksum": checksum(bytes(s["body"])), "text": bytes(s["body"][:64]).decode("latin-1"),
                    "trailers": s["trailers"], "pushed": s.get("pushed", False), "reset": s.get("reset")})
            write_message(b"E", json.dumps(result).encode())
            return
        write_message(b"D", conn.data_to_send())


def run_server():
    config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
    conn = h2.connection.H2Connection(config=config)
    conn.initiate_connection()
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 16384})
    sender = Sender(conn)
    requests = {}
    terminated = None

    def respond(stream_id):
        r = requests[stream_id]
        path = r["path"]
        if path == "/hello":
            conn.send_headers(stream_id, [(":status", "200"), ("content-type", "text/plain")])
            sender.add(stream_id, b"hello world", [("x-trailer", "done")])
        elif path == "/echo":
            conn.send_headers(stream_id, [(":status", "200")])
            sender.add(stream_id, bytes(r["body"]), [("x-echo-trailer", r["trailers"].get("x-request-trailer", "missing"))])
        elif path == "/upload":
            conn.send_headers(stream_id, [(":status", "200")])
            sender.add(stream_id, json.dumps(checksum(bytes(r["body"]))).encode())
        elif path == "/big":
            conn.send_headers(stream_id, [(":status", "200"), ("content-length", str(BIG))])
            sender.add(stream_id, pattern(BIG))
        elif path == "/pushed":
            promised = conn.get_next_available_stream_id()
            conn.push_stream(stream_id, promised, [
                (":method", "GET"), (":path", "/style.css"), (":scheme", "http"), (":authority", "localhost")])
            conn.send_headers(promised, [(":status", "200"), ("content-type", "text/css")])
            sender.add(promised, b"body{color:red}")
            conn.send_headers(stream_id, [(":status", "200")])
            sender.add(stream_id, b"page")
        else:
            conn.send_headers(stream_id, [(":status", "404")], end_stream=True)

    while True:
        _, data = read_message()
        for event in conn.receive_data(data) if data else []:
            if isinstance(event, h2.events.RequestReceived):
                headers = dict(event.headers)
                requests[event.stream_id] = {"path": headers[":path"], "body": bytearray(), "trailers": {}}
            elif isinstance(event, h2.events.DataReceived):
                requests[event.stream_id]["body"] += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.TrailersReceived):
                requests[event.stream_id]["trailers"] = dict(event.headers)
            elif isinstance(event, h2.events.StreamEnded):
                respond(event.stream_id)
            elif isinstance(event, h2.events.ConnectionTerminated):
                terminated = int(event.error_code)
        sender.pump()
        if not data:
            print("idle:", {k: (v["path"], len(v["body"])) for k, v in requests.items()},
                  {k: (v[1], len(v[0])) for k, v in sender.pending.items()}, file=sys.stderr, flush=True)
        if terminated is not None:
            result = {
                "error_code": terminated,
                "requests": [{"stream": k, "path": v["path"], "checksum": checksum(bytes(v["body"])),
                              "trailers": v["trailers"]} for k, v in sorted(requests.items())]}
            write_message(b"E", json.dumps(result).encode())
            return
        write_message(b"D", conn.data_to_send())


if __name__ == "__main__":
    run_client() if sys.argv[1] == "client" else run_server()
