"""Suite 2: a corpus of malformed and hostile HTTP/1.1 requests over raw sockets, each with the
status RFC 9110/9112 (and the serve contract) call for, or a close. A 400 must also close the
connection. Afterwards the server still answers and holds as many descriptors as before."""
import socket
import time

from epsilon_suite import warm_up, ResponseReader, Server, Suite, connect, get

suite = Suite("http1-hostile")
H = b"Host: localhost"
CLOSE = "close"  # the connection closes with no response (or after a 400)
ANSWER_THEN_CLOSE = "answer+close"  # any answer, as long as the connection closes after it
HANDLER_400 = "400 from a handler"  # a 400 that is not a framing error: the connection may stay


def req(line, *headers, body=b""):
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


# (label, bytes sent, acceptable outcomes: statuses and/or CLOSE; RFC reference)
CORPUS = [
    # Request line.
    ("no Host in HTTP/1.1", req(b"GET /hello HTTP/1.1"), {400}),  # 9112 §3.2
    ("two Host fields", req(b"GET /hello HTTP/1.1", b"Host: a", b"Host: b"), {400}),  # 9112 §3.2
    ("Host with a space", req(b"GET /hello HTTP/1.1", b"Host: a b"), {400}),  # 9110 §7.2
    ("Host with a bad port", req(b"GET /hello HTTP/1.1", b"Host: localhost:80x"), {400}),
    ("method with a non-token byte", req(b"G(T /hello HTTP/1.1", H), {400}),  # 9110 §9
    ("empty method", req(b" /hello HTTP/1.1", H), {400}),
    ("two spaces after the method", req(b"GET  /hello HTTP/1.1", H), {400}),  # 9112 §3
    ("version HTTP/2.0 on HTTP/1", req(b"GET /hello HTTP/2.0", H), {505}),  # 9110 §15.6.6
    ("version HTTP/3.0", req(b"GET /hello HTTP/3.0", H), {505}),
    ("version HTTP/1.1x", req(b"GET /hello HTTP/1.1x", H), {400}),
    ("lower-case http/1.1", req(b"GET /hello http/1.1", H), {400, 505}),  # 9112 §2.3: case-sensitive
    ("no version (HTTP/0.9 style)", b"GET /hello\r\n\r\n", {400, CLOSE}),
    ("bare CR in the request line", req(b"GET /hel\rlo HTTP/1.1", H), {400}),  # 9112 §2.2
    ("NUL in the target", req(b"GET /hel\x00lo HTTP/1.1", H), {400}),
    ("byte 0xFF in the target", req(b"GET /h\xffello HTTP/1.1", H), {400}),  # 9112 §3.2 / 3986
    ("target without a leading slash", req(b"GET hello HTTP/1.1", H), {400}),  # 9112 §3.2
    ("asterisk-form with GET", req(b"GET * HTTP/1.1", H), {400, 404}),  # 9112 §3.2.4: OPTIONS only
    ("authority-form with GET", req(b"GET localhost:80 HTTP/1.1", H), {400}),  # 9112 §3.2.3: CONNECT only
    ("invalid percent-encoding", req(b"GET /api/users/%zz HTTP/1.1", H), {400, HANDLER_400}),
    ("request line of 20 KiB", req(b"GET /" + b"a" * 20480 + b" HTTP/1.1", H), {414, 431}),  # 9112 §3
    ("method of 10 KiB", req(b"A" * 10240 + b" /hello HTTP/1.1", H), {400, 405, 414, 431, 501}),
    ("unknown method", req(b"BREW /hello HTTP/1.1", H), {405, 501}),  # 9110 §9.1
    ("lower-case method", req(b"get /hello HTTP/1.1", H), {405, 501}),  # 9110 §9.1: case-sensitive
    ("CONNECT", req(b"CONNECT localhost:443 HTTP/1.1", H), {400, 404, 405, 501}),
    ("TLS ClientHello on the cleartext port", bytes.fromhex("160301020001000200030338") + b"\x00" * 100, {400, CLOSE}),
    # Header fields.
    ("space before the colon", req(b"GET /hello HTTP/1.1", H, b"Foo : bar"), {400}),  # 9112 §5.1 MUST 400
    ("obsolete line folding", req(b"GET /hello HTTP/1.1", H, b"Foo: bar", b" baz"), {400, 200}),  # 9112 §5.2: 400, or replaced by SP
    ("field name with a non-token byte", req(b"GET /hello HTTP/1.1", H, b"Fo(o: bar"), {400}),  # 9110 §5.1
    ("empty field name", req(b"GET /hello HTTP/1.1", H, b": bar"), {400}),
    ("field line without a colon", req(b"GET /hello HTTP/1.1", H, b"Foo bar"), {400}),
    ("NUL in a field value", req(b"GET /hello HTTP/1.1", H, b"Foo: b\x00r"), {400}),  # 9110 §5.5
    ("bare CR in a field value", req(b"GET /hello HTTP/1.1", H, b"Foo: b\rr"), {400}),  # 9110 §5.5
    ("one field of 20 KiB", req(b"GET /hello HTTP/1.1", H, b"Foo: " + b"x" * 20480), {431}),  # 6585 §5
    ("101 fields", req(b"GET /hello HTTP/1.1", H, *(b"X-%d: y" % i for i in range(101))), {431}),
    ("header block of 17 KiB in small fields", req(b"GET /hello HTTP/1.1", H, *(b"X-%03d: %s" % (i, b"y" * 160) for i in range(99))), {431}),
    # Framing (request smuggling).
    ("Content-Length and Transfer-Encoding", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 5", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"), {400}),  # 9112 §6.1
    ("two different Content-Length", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 5", b"Content-Length: 6", body=b"hello!"), {400}),  # 9112 §6.3
    ("Content-Length list 5, 6", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 5, 6", body=b"hello!"), {400}),
    ("negative Content-Length", req(b"POST /echo HTTP/1.1", H, b"Content-Length: -1"), {400}),
    ("Content-Length +5", req(b"POST /echo HTTP/1.1", H, b"Content-Length: +5", body=b"hello"), {400}),
    ("hexadecimal Content-Length", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 0x5", body=b"hello"), {400}),
    ("Content-Length of 30 digits", req(b"POST /echo HTTP/1.1", H, b"Content-Length: " + b"9" * 30), {400, 413}),
    ("body over the limit (2 GiB)", req(b"POST /discard HTTP/1.1", H, b"Content-Length: 2147483648"), {413}),  # 9110 §15.5.14
    ("Expect: 100-continue over the limit", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 2147483648", b"Expect: 100-continue"), {413}),
    ("unknown expectation", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 0", b"Expect: tea"), {417, 200}),  # 9110 §10.1.1: MAY 417
    ("chunked not last", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: chunked, gzip"), {400}),  # 9112 §6.3
    ("unknown transfer coding", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: foo, chunked", body=b"0\r\n\r\n"), {501, 400}),  # 9112 §6.1
    ("Transfer-Encoding: xchunked", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: xchunked"), {501, 400}),
    ("Transfer-Encoding in HTTP/1.0", req(b"POST /echo HTTP/1.0", H, b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"), {400, ANSWER_THEN_CLOSE}),  # 9112 §6.1: faulty framing, close after
    ("chunk size not hex", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: chunked", body=b"zz\r\nhello\r\n0\r\n\r\n"), {400}),
    ("chunk size overflowing 64 bits", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: chunked", body=b"1" + b"0" * 20 + b"\r\nhello\r\n"), {400, 413}),
    ("chunk data without its CRLF", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: chunked", body=b"5\r\nhelloXX0\r\n\r\n"), {400}),
    ("chunk extension of 20 KiB", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: chunked", body=b"5;" + b"e" * 20480 + b"\r\nhello\r\n0\r\n\r\n"), {400, 413, 431}),
    # Routing answers the contract documents.
    ("unknown path", req(b"GET /no/such/path HTTP/1.1", H), {404}),
    ("POST to a GET route", req(b"POST /hello HTTP/1.1", H, b"Content-Length: 0"), {405}),
    ("DELETE /echo", req(b"DELETE /echo HTTP/1.1", H), {405}),
]

# Requests that must succeed (the corpus's reference points).
GOOD = [
    ("absolute-form target", req(b"GET http://localhost/hello HTTP/1.1", H), 200),  # 9112 §3.2.2 MUST accept
    ("OPTIONS *", req(b"OPTIONS * HTTP/1.1", H), {200, 204}),
    ("HTTP/1.0 without Host", req(b"GET /hello HTTP/1.0"), 200),
    ("HTTP/1.2 answered as 1.1 (or 505)", req(b"GET /hello HTTP/1.2", H), {200, 505}),  # 9110 §6.2 SHOULD
    ("identical Content-Length twice", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 5", b"Content-Length: 5", body=b"hello"), {200, 400}),
    ("GET /throw → 500 without the error text", req(b"GET /throw HTTP/1.1", H), 500, lambda r: b"secret" not in r.body and b"Failure" not in r.body),
    ("GET /api/users/a%22b → JSON-escaped id", req(b"GET /api/users/a%22b HTTP/1.1", H), 200, lambda r: r.body == b'{"id":"a\\"b"}'),
    ("GET /api/users/42 carries Date, Server: epsilon, a request id", req(b"GET /api/users/42 HTTP/1.1", H), 200,
     lambda r: r.body == b'{"id":"42"}' and r.header("server") == "epsilon" and r.header("date") and r.header("x-request-id")),
    ("GET /api/users/42 with Origin gets CORS", req(b"GET /api/users/42 HTTP/1.1", H, b"Origin: http://example.com"), 200,
     lambda r: r.header("access-control-allow-origin") is not None),
    ("GET / names the routes", req(b"GET / HTTP/1.1", H), 200, lambda r: b"/hello" in r.body and b"/echo" in r.body),
    ("Expect: 100-continue → 100 then 200", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 5", b"Expect: 100-continue", body=b"hello"), 200, lambda r: r.body == b"hello"),
]


def exchange(port, data, timeout=5.0):
    """Sends `data`; returns (status or None, closed afterwards?, response)."""
    s = connect(port)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        reader = ResponseReader(s)
        try:
            resp = reader.read(timeout)
        except EOFError:
            return None, True, None
        closed = reader.closed(2.0 if resp.status == 400 else 1.0)
        return resp.status, closed, resp
    finally:
        s.close()


try:
    with Server() as server:
        start_fds = warm_up(server)  # lazily made per-loop state is not a leak
        for label, data, outcomes in CORPUS:
            try:
                status, closed, resp = exchange(server.port, data)
            except TimeoutError:
                suite.check(f"{label} → {sorted(map(str, outcomes))}", False, "no response and no close within 5 s")
                continue
            if status is None:
                ok = CLOSE in outcomes
                got = "closed without a response"
            else:
                ok = (status in outcomes and (status != 400 or closed or HANDLER_400 in outcomes)) \
                    or (ANSWER_THEN_CLOSE in outcomes and closed)
                got = f"{status}" + (" then closed" if closed else " and kept open")
                if status == 405:
                    ok = ok and bool(resp.header("allow"))
                    got += f", Allow: {resp.header('allow')}"
            suite.check(f"{label} → {'/'.join(sorted(map(str, outcomes)))}", ok, f"got {got}")
        for label, data, want, *body_ok in GOOD:
            want = want if isinstance(want, set) else {want}
            try:
                status, _, resp = exchange(server.port, data)
            except TimeoutError:
                status, resp = "timeout", None
            ok = status in want and (not body_ok or (resp is not None and bool(body_ok[0](resp))))
            detail = f"got {status}" + (f" {resp.headers} {resp.body[:100]!r}" if resp is not None and not ok else "")
            suite.check(f"{label} → {'/'.join(map(str, sorted(want)))}", ok, detail)
        # Pipelined: a good request, then a bad one: the first is answered, then 400 and close.
        s = connect(server.port)
        s.sendall(req(b"GET /hello HTTP/1.1", H) + req(b"GET /hello HTTP/1.1", H, b"Foo : bar"))
        r = ResponseReader(s)
        first = r.read(5)
        try:
            second = r.read(5).status
        except EOFError:
            second = "close"
        suite.check("pipelined good then bad → 200, 400, close", first.status == 200 and second == 400 and r.closed(2), f"got {first.status}, {second}")
        s.close()
        # HEAD from GET: the headers of GET, no body; the connection stays usable.
        s = connect(server.port)
        s.sendall(req(b"HEAD /hello HTTP/1.1", H) + req(b"GET /hello HTTP/1.1", H))
        r = ResponseReader(s)
        head = r.read(5, head=True)
        after = r.read(5)
        suite.check("HEAD /hello → 200, Content-Length 13, no body", head.status == 200 and head.header("content-length") == "13"
                    and after.status == 200 and after.body == b"Hello, World!", f"HEAD {head.status} {head.headers}, then {after.status} {after.body!r}")
        s.close()
        # Half a request then the client goes away: no response owed, nothing leaks.
        for partial in (b"GET /hel", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 100", body=b"abc")):
            s = connect(server.port)
            s.sendall(partial)
            time.sleep(0.05)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
            s.close()
        # The server still serves and holds no more descriptors than before.
        resp = get(server.port)
        suite.check("server still answers GET /hello", resp.status == 200 and resp.body == b"Hello, World!", f"got {resp.status}")
        n = server.wait_fds(start_fds)
        suite.check(f"descriptors back to {start_fds}", n <= start_fds, f"now {n}")
        suite.check(f"corpus has at least 40 hostile requests ({len(CORPUS)})", len(CORPUS) >= 40, len(CORPUS))
except Exception as e:
    suite.error("suite setup", e)
suite.finish()
