"""Suite 3: hostile HTTP/2 connection scripts (raw frames) against `epsilon serve --h2c` (and one
over TLS with ALPN h2). Each expects the RFC 9113 answer — a GOAWAY or RST_STREAM with the named
error code (or, where the RFC allows it, a close or a 4xx) — and after each the server still
serves a new connection. Floods must also leave the server's memory bounded."""
import os
import struct
import tempfile
import time

from epsilon_suite import warm_up, Server, Suite, make_tls
from h2_frames import (CODE, PREFACE, CONTINUATION, DATA, END_HEADERS, END_STREAM, GOAWAY, HEADERS, PING, PRIORITY,
                       PRIORITY_FLAG, PUSH_PROMISE, RST_STREAM, SETTINGS, WINDOW_UPDATE, H2Client, frame,
                       request_headers, rst, settings, window_update)

suite = Suite("http2-scripts")
GET = request_headers("/hello")


def goaway(code):
    return lambda o: o.goaway is not None and o.goaway[1] == code


def reset(stream, *codes):
    return lambda o: o.resets.get(stream) in codes


def status(stream, *values):
    return lambda o: o.statuses.get(stream) in values


def closed(o):
    return o.closed


def calm_or_closed(o):
    return (o.goaway is not None and o.goaway[1] in ("ENHANCE_YOUR_CALM", "PROTOCOL_ERROR")) or o.closed


def malformed(stream):  # RFC 9113 §8.1.1: stream error PROTOCOL_ERROR; a 400 first is allowed
    return lambda o: o.resets.get(stream) == "PROTOCOL_ERROR" or o.statuses.get(stream) == 400 \
        or (o.goaway is not None and o.goaway[1] == "PROTOCOL_ERROR")


def anyof(*preds):
    return lambda o: any(p(o) for p in preds)


# Each script: (label, expectation text, function(client) -> None, predicate on the outcome).
def s_first_frame_not_settings(c):
    # The client preface is the magic followed by SETTINGS (§3.4): send the magic, then a PING.
    c.send(PREFACE + frame(PING, 0, 0, b"\0" * 8))


s_first_frame_not_settings.own_preface = True


def s_data_stream0(c):
    c.settle(); c.send(frame(DATA, 0, 0, b"hello"))


def s_headers_even(c):
    c.settle(); c.headers(2, GET)


def s_decreasing_ids(c):
    c.settle(); c.headers(5, GET); c.headers(3, GET)


def s_data_idle(c):
    c.settle(); c.send(frame(DATA, 0, 1, b"hello"))


def s_data_closed(c):
    c.settle(); c.headers(1, GET)
    c.read_until(lambda o: 1 in o.ended, 5)
    c.send(frame(DATA, 0, 1, b"late"))


def s_headers_closed(c):
    c.settle(); c.headers(1, GET)
    c.read_until(lambda o: 1 in o.ended, 5)
    c.headers(1, GET)


def s_wu_zero_conn(c):
    c.settle(); c.send(window_update(0, 0))


def s_wu_zero_stream(c):
    c.settle(); c.headers(1, request_headers("/delay/1000")); c.send(window_update(1, 0))


def s_wu_overflow_conn(c):
    c.settle(); c.send(window_update(0, 0x7FFFFFFF) + window_update(0, 0x7FFFFFFF))


def s_wu_overflow_stream(c):
    c.settle(); c.headers(1, request_headers("/delay/1000"))
    c.send(window_update(1, 0x7FFFFFFF) + window_update(1, 0x7FFFFFFF))


def s_initial_window_too_big(c):
    c.settle(); c.send(settings((4, 0x80000000)))


def s_enable_push_2(c):
    c.settle(); c.send(settings((2, 2)))


def s_max_frame_too_small(c):
    c.settle(); c.send(settings((5, 100)))


def s_settings_length(c):
    c.settle(); c.send(frame(SETTINGS, 0, 0, b"\0\x03\0\0\0"))


def s_settings_ack_payload(c):
    c.settle(); c.send(frame(SETTINGS, 1, 0, struct.pack(">HI", 3, 100)))


def s_settings_on_stream(c):
    c.settle(); c.send(frame(SETTINGS, 0, 1, b""))


def s_ping_length(c):
    c.settle(); c.send(frame(PING, 0, 0, b"\0" * 7))


def s_wu_length(c):
    c.settle(); c.send(frame(WINDOW_UPDATE, 0, 0, b"\0\0\x01"))


def s_rst_idle(c):
    c.settle(); c.send(rst(1))


def s_push_promise(c):
    c.settle(); c.headers(1, request_headers("/delay/500"))
    c.send(frame(PUSH_PROMISE, END_HEADERS, 1, struct.pack(">I", 2) + c.encoder.encode(GET)))


def s_continuation_alone(c):
    c.settle(); c.send(frame(CONTINUATION, END_HEADERS, 1, c.encoder.encode(GET)))


def s_headers_then_ping(c):
    c.settle()
    c.send(frame(HEADERS, END_STREAM, 1, c.encoder.encode(GET)) + frame(PING, 0, 0, b"\0" * 8))


def s_continuation_other_stream(c):
    c.settle()
    block = c.encoder.encode(GET)
    c.send(frame(HEADERS, END_STREAM, 1, block[:3]) + frame(CONTINUATION, END_HEADERS, 3, block[3:]))


def s_oversized_frame(c):
    c.settle()
    limit = 16384  # our SETTINGS_MAX_FRAME_SIZE is the default; the server's receive limit is its own
    limit = c.out.settings.get(5, limit)
    c.headers(1, request_headers("/discard", "POST"), end_stream=False)
    c.send(frame(DATA, 0, 1, b"x" * (limit + 1)))


def s_flow_control_overflow(c):
    c.settle()
    stream_window = c.out.settings.get(4, 65535)
    conn_window = 65535 + c.out.window_updates.get(0, 0)
    c.headers(1, request_headers("/stall", "POST"), end_stream=False)
    n = min(stream_window, conn_window) + 1
    c.read_until(lambda o: False, 0.2)  # window updates the server sends at once
    n = min(c.out.settings.get(4, 65535) + c.out.window_updates.get(1, 0), 65535 + c.out.window_updates.get(0, 0)) + 1
    frame_size = 16384
    while n > 0:
        chunk = min(n, frame_size)
        c.send(frame(DATA, 0, 1, b"x" * chunk))
        n -= chunk


def s_content_length_mismatch(c):
    c.settle()
    c.headers(1, request_headers("/discard", "POST", extra=[("content-length", "10")]), end_stream=False)
    c.send(frame(DATA, END_STREAM, 1, b"12345"))


def pseudo_script(fields):
    def run(c):
        c.settle(); c.headers(1, fields)
    return run


def s_self_dependency(c):
    c.settle()
    c.send(frame(HEADERS, END_HEADERS | END_STREAM | PRIORITY_FLAG, 1, struct.pack(">IB", 1, 15) + c.encoder.encode(GET)))


def s_priority_length(c):
    c.settle(); c.send(frame(PRIORITY, 0, 1, b"\0\0\0\0"))


def s_hpack_bad_index(c):
    c.settle(); c.headers(1, None, raw_block=b"\x82\x84\x86\xff\x7f")  # index 2+16383+… past both tables


def s_hpack_size_update(c):
    c.settle(); c.headers(1, None, raw_block=b"\x3f\xe1\xff\x03" + c.encoder.encode(GET))  # table size 65536+ > 4096


def s_hpack_bomb(c):
    c.settle()
    value = b"a" * 4000
    block = (c.encoder.encode(GET) + b"\x40" + bytes([6]) + b"x-bomb" + b"\x7f\x81\x1f" + value
             + b"\xbe" * 4000)  # one 4 KB entry, then 4,000 one-byte references to it: 16 MB decoded
    c.headers(1, None, raw_block=block)


def s_continuation_flood(c):
    c.settle()
    c.send(frame(HEADERS, END_STREAM, 1, c.encoder.encode(GET)))
    piece = frame(CONTINUATION, 0, 1, b"\x40\x03x-a\x0a" + b"b" * 10) * 64
    deadline = time.monotonic() + 10
    for _ in range(2000):  # up to 128,000 frames, 2.6 MB of header block
        if not c.send(piece) or time.monotonic() > deadline or c.out.goaway:
            break


def s_settings_flood(c):
    c.settle()
    burst = settings((3, 100)) * 1000
    for _ in range(200):  # 200,000 SETTINGS without reading an ACK
        if not c.send(burst):
            break


def s_ping_flood(c):
    c.settle()
    burst = frame(PING, 0, 0, b"\0" * 8) * 1000
    for _ in range(200):
        if not c.send(burst):
            break


def s_rst_flood(c):
    c.settle()
    stream = 1
    for _ in range(100):  # 10,000 streams opened and reset at once (CVE-2023-44487)
        burst = b""
        for _ in range(100):
            burst += frame(HEADERS, END_HEADERS | END_STREAM, stream, c.encoder.encode(request_headers("/delay/1000"))) + rst(stream)
            stream += 2
        if not c.send(burst):
            break


def s_too_many_streams(c):
    c.settle()
    limit = c.out.settings.get(3, 100)
    c._limit = limit
    c.send(b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, c.encoder.encode(request_headers("/delay/1500")))
                    for i in range(limit + 1)))


def s_unknown_frame(c):
    c.settle()
    c.send(frame(0xFA, 0xFF, 0, b"ignored") + frame(0xFA, 0, 1, b"x"))
    c.headers(1, GET)


def s_get(c):
    c.settle(); c.headers(1, GET)


def refused_one(o):
    return "REFUSED_STREAM" in o.resets.values() or "PROTOCOL_ERROR" in o.resets.values() \
        or (o.goaway is not None and o.goaway[1] == "PROTOCOL_ERROR")


SCRIPTS = [
    ("first frame a PING, not SETTINGS", "GOAWAY PROTOCOL_ERROR", s_first_frame_not_settings, goaway("PROTOCOL_ERROR")),  # §3.4
    ("DATA on stream 0", "GOAWAY PROTOCOL_ERROR", s_data_stream0, goaway("PROTOCOL_ERROR")),  # §6.1
    ("HEADERS on an even stream", "GOAWAY PROTOCOL_ERROR", s_headers_even, goaway("PROTOCOL_ERROR")),  # §5.1.1
    ("stream ids going down (5 then 3)", "GOAWAY PROTOCOL_ERROR/STREAM_CLOSED", s_decreasing_ids, anyof(goaway("PROTOCOL_ERROR"), goaway("STREAM_CLOSED"))),  # §5.1.1
    ("DATA on an idle stream", "GOAWAY PROTOCOL_ERROR", s_data_idle, goaway("PROTOCOL_ERROR")),  # §5.1
    ("DATA on a closed stream", "STREAM_CLOSED", s_data_closed, anyof(goaway("STREAM_CLOSED"), reset(1, "STREAM_CLOSED"))),  # §5.1
    ("HEADERS on a closed stream", "GOAWAY STREAM_CLOSED/PROTOCOL_ERROR", s_headers_closed, anyof(goaway("STREAM_CLOSED"), goaway("PROTOCOL_ERROR"))),
    ("WINDOW_UPDATE 0 on the connection", "GOAWAY PROTOCOL_ERROR", s_wu_zero_conn, goaway("PROTOCOL_ERROR")),  # §6.9
    ("WINDOW_UPDATE 0 on a stream", "RST_STREAM PROTOCOL_ERROR", s_wu_zero_stream, anyof(reset(1, "PROTOCOL_ERROR"), goaway("PROTOCOL_ERROR"))),
    ("connection window past 2^31-1", "GOAWAY FLOW_CONTROL_ERROR", s_wu_overflow_conn, goaway("FLOW_CONTROL_ERROR")),  # §6.9.1
    ("stream window past 2^31-1", "RST_STREAM FLOW_CONTROL_ERROR", s_wu_overflow_stream, anyof(reset(1, "FLOW_CONTROL_ERROR"), goaway("FLOW_CONTROL_ERROR"))),
    ("SETTINGS_INITIAL_WINDOW_SIZE 2^31", "GOAWAY FLOW_CONTROL_ERROR", s_initial_window_too_big, goaway("FLOW_CONTROL_ERROR")),  # §6.5.2
    ("SETTINGS_ENABLE_PUSH 2", "GOAWAY PROTOCOL_ERROR", s_enable_push_2, goaway("PROTOCOL_ERROR")),
    ("SETTINGS_MAX_FRAME_SIZE 100", "GOAWAY PROTOCOL_ERROR", s_max_frame_too_small, goaway("PROTOCOL_ERROR")),
    ("SETTINGS of 5 bytes", "GOAWAY FRAME_SIZE_ERROR", s_settings_length, goaway("FRAME_SIZE_ERROR")),  # §6.5
    ("SETTINGS ACK with a payload", "GOAWAY FRAME_SIZE_ERROR", s_settings_ack_payload, goaway("FRAME_SIZE_ERROR")),
    ("SETTINGS on stream 1", "GOAWAY PROTOCOL_ERROR", s_settings_on_stream, goaway("PROTOCOL_ERROR")),
    ("PING of 7 bytes", "GOAWAY FRAME_SIZE_ERROR", s_ping_length, goaway("FRAME_SIZE_ERROR")),  # §6.7
    ("WINDOW_UPDATE of 3 bytes", "GOAWAY FRAME_SIZE_ERROR", s_wu_length, goaway("FRAME_SIZE_ERROR")),  # §6.9
    ("RST_STREAM on an idle stream", "GOAWAY PROTOCOL_ERROR", s_rst_idle, goaway("PROTOCOL_ERROR")),  # §6.4
    ("PUSH_PROMISE from a client", "GOAWAY PROTOCOL_ERROR", s_push_promise, goaway("PROTOCOL_ERROR")),  # §8.4
    ("CONTINUATION without HEADERS", "GOAWAY PROTOCOL_ERROR", s_continuation_alone, goaway("PROTOCOL_ERROR")),  # §6.10
    ("HEADERS without END_HEADERS, then PING", "GOAWAY PROTOCOL_ERROR", s_headers_then_ping, goaway("PROTOCOL_ERROR")),  # §6.10
    ("CONTINUATION on another stream", "GOAWAY PROTOCOL_ERROR", s_continuation_other_stream, goaway("PROTOCOL_ERROR")),
    ("DATA larger than SETTINGS_MAX_FRAME_SIZE", "GOAWAY FRAME_SIZE_ERROR", s_oversized_frame, goaway("FRAME_SIZE_ERROR")),  # §4.2
    ("DATA past the flow-control window", "FLOW_CONTROL_ERROR", s_flow_control_overflow, anyof(goaway("FLOW_CONTROL_ERROR"), reset(1, "FLOW_CONTROL_ERROR"))),  # §6.9
    ("content-length 10 with 5 bytes of DATA", "RST_STREAM PROTOCOL_ERROR", s_content_length_mismatch, malformed(1)),  # §8.1.1
    ("no :method", "RST_STREAM PROTOCOL_ERROR", pseudo_script([(":scheme", "http"), (":path", "/hello"), (":authority", "x")]), malformed(1)),  # §8.3.1
    ("no :path", "RST_STREAM PROTOCOL_ERROR", pseudo_script([(":method", "GET"), (":scheme", "http"), (":authority", "x")]), malformed(1)),
    ("empty :path", "RST_STREAM PROTOCOL_ERROR", pseudo_script(request_headers("")), malformed(1)),
    ("two :path", "RST_STREAM PROTOCOL_ERROR", pseudo_script(request_headers("/hello", extra=[(":path", "/hello")])), malformed(1)),
    ("unknown pseudo-header :foo", "RST_STREAM PROTOCOL_ERROR", pseudo_script(request_headers("/hello", extra=[(":foo", "bar")])), malformed(1)),  # §8.3
    ("pseudo-header after a regular field", "RST_STREAM PROTOCOL_ERROR", pseudo_script([("x-a", "b"), *GET]), malformed(1)),  # §8.3
    ("response pseudo-header :status in a request", "RST_STREAM PROTOCOL_ERROR", pseudo_script(request_headers("/hello", extra=[(":status", "200")])), malformed(1)),
    ("upper-case field name", "RST_STREAM PROTOCOL_ERROR", pseudo_script(request_headers("/hello", extra=[("X-Upper", "1")])), malformed(1)),  # §8.2
    ("connection: keep-alive", "RST_STREAM PROTOCOL_ERROR", pseudo_script(request_headers("/hello", extra=[("connection", "keep-alive")])), malformed(1)),  # §8.2.2
    ("te: gzip", "RST_STREAM PROTOCOL_ERROR", pseudo_script(request_headers("/hello", extra=[("te", "gzip")])), malformed(1)),  # §8.2.2
    ("HEADERS depending on itself", "RST_STREAM PROTOCOL_ERROR", s_self_dependency, anyof(reset(1, "PROTOCOL_ERROR"), goaway("PROTOCOL_ERROR"))),  # §5.3.1
    ("PRIORITY of 4 bytes", "FRAME_SIZE_ERROR", s_priority_length, anyof(reset(1, "FRAME_SIZE_ERROR"), goaway("FRAME_SIZE_ERROR"))),  # §6.3
    ("HPACK index past the tables", "GOAWAY COMPRESSION_ERROR", s_hpack_bad_index, goaway("COMPRESSION_ERROR")),  # RFC 7541 §2.3.3
    ("HPACK table size update past the setting", "GOAWAY COMPRESSION_ERROR", s_hpack_size_update, goaway("COMPRESSION_ERROR")),  # RFC 7541 §4.2
    ("HPACK bomb (16 MB from 20 KB)", "431, RST_STREAM or GOAWAY", s_hpack_bomb,
     anyof(status(1, 431), lambda o: 1 in o.resets, goaway("ENHANCE_YOUR_CALM"), goaway("COMPRESSION_ERROR"), goaway("PROTOCOL_ERROR"))),
    ("CONTINUATION flood", "GOAWAY or close", s_continuation_flood,
     anyof(status(1, 431), calm_or_closed, goaway("COMPRESSION_ERROR"), goaway("FRAME_SIZE_ERROR"))),
    ("SETTINGS flood (200,000 unacknowledged)", "GOAWAY ENHANCE_YOUR_CALM or close", s_settings_flood, calm_or_closed),
    ("PING flood (200,000 unread)", "GOAWAY ENHANCE_YOUR_CALM or close", s_ping_flood, calm_or_closed),
    ("RST_STREAM flood (10,000 rapid resets)", "GOAWAY ENHANCE_YOUR_CALM or close", s_rst_flood, calm_or_closed),
    ("one stream past SETTINGS_MAX_CONCURRENT_STREAMS", "RST_STREAM REFUSED_STREAM", s_too_many_streams, refused_one),  # §5.1.2
    ("unknown frame types are ignored", "200", s_unknown_frame, lambda o: o.statuses.get(1) == 200 and 1 in o.ended and not o.goaway),  # §4.1
    ("plain GET /hello", "200 Hello, World!", s_get, lambda o: o.statuses.get(1) == 200 and o.data.get(1) == b"Hello, World!"),
]


def still_serves(port):
    c = H2Client(port)
    try:
        c.headers(1, GET)
        o = c.read_until(lambda o: 1 in o.ended, 5)
        return o.statuses.get(1) == 200 and o.data.get(1) == b"Hello, World!"
    finally:
        c.close()


try:
    work = tempfile.mkdtemp(prefix="epsilon-h2.")
    ca, cert, key = make_tls(work)
    with Server("--h2c") as server, Server("--cert", cert, "--key", key) as tls:
        still_serves(server.port)
        warm_up(server)
        start_fds, start_rss = warm_up(server, h2=True), server.rss_kb()
        peak_rss = start_rss
        start_fds_seen = []
        for label, want, script, predicate in SCRIPTS:
            c = H2Client(server.port, preface=not getattr(script, "own_preface", False))
            try:
                script(c)
                o = c.read_until(predicate, 5)
                ok = predicate(o)
                detail = o.describe()
            except Exception as e:
                ok, detail = False, f"{type(e).__name__}: {e}"
            finally:
                c.close()
            peak_rss = max(peak_rss, server.rss_kb())
            suite.check(f"{label} → {want}", ok, f"got {detail}")
            if not still_serves(server.port):
                suite.check(f"after '{label}': a new connection is served", False, "GET /hello on a new connection failed")
            held = server.wait_fds(start_fds, 2.0)
            if held > start_fds:
                print(f"  note: after '{label}' the server holds {held} descriptors (start {start_fds})")
                start_fds_seen.append((label, held))
        # Bad preface over TLS (ALPN h2): not an HTTP/2 connection.
        c = H2Client(tls.port, tls_ca=ca, preface=False)
        c.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + settings())
        o = c.read_until(anyof(goaway("PROTOCOL_ERROR"), closed), 5)
        suite.check("TLS h2: bad connection preface → GOAWAY PROTOCOL_ERROR or close", o.goaway is not None and o.goaway[1] == "PROTOCOL_ERROR" or o.closed, o.describe())
        c.close()
        c = H2Client(tls.port, tls_ca=ca)
        c.headers(1, GET)
        o = c.read_until(lambda o: 1 in o.ended, 5)
        suite.check("TLS h2: GET /hello → 200", o.statuses.get(1) == 200 and o.data.get(1) == b"Hello, World!", o.describe())
        c.close()
        suite.check(f"at least 20 connection scripts ({len(SCRIPTS) + 1})", len(SCRIPTS) + 1 >= 20, "")
        suite.check("server still serves h2c", still_serves(server.port), "GET /hello failed")
        n = server.wait_fds(start_fds)
        suite.check(f"descriptors back to {start_fds}", n <= start_fds, f"now {n}; held after: {start_fds_seen[:5]}")
        suite.check("RSS stayed within 64 MB of its start during the floods", peak_rss - start_rss < 65536,
                    f"{start_rss} kB → peak {peak_rss} kB")
except Exception as e:
    suite.error("suite setup", e)
suite.finish()
