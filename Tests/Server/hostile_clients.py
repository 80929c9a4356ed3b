"""Suite 5: hostile clients over sockets.
- silent connections and half-finished TLS handshakes are closed by the defaults within 30 s
  (waited for up to 35 s, in a thread while the other checks run);
- a slow body is cut at --body-timeout;
- a client that pipelines 200 MB of requests without reading a response leaves the server's RSS
  within 64 MB of its start;
- a request preceded by CRLF is answered at once;
- descriptors are back to their starting count afterwards."""
import socket
import ssl
import tempfile
import threading
import time

from epsilon_suite import warm_up, ResponseReader, Server, Suite, connect, get, make_tls

suite = Suite("hostile")
work = tempfile.mkdtemp(prefix="epsilon-hostile.")
ca, cert, key = make_tls(work)


def client_hello_prefix():
    """The first bytes of a real TLS ClientHello (made by Python's ssl with a memory BIO)."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    return hello[: len(hello) // 2]


def watch_closed(socks, limit, results, key):
    """Records, for each socket, the seconds until the server closed it (None: still open)."""
    start = time.monotonic()
    pending = {s: None for s in socks}
    while pending and time.monotonic() - start < limit:
        for s in list(pending):
            s.settimeout(0.0)
            try:
                data = s.recv(4096)
                if not data:
                    results.setdefault(key, []).append(time.monotonic() - start)
                    del pending[s]
                    s.close()
            except (BlockingIOError, socket.timeout):
                pass
            except OSError:
                results.setdefault(key, []).append(time.monotonic() - start)
                del pending[s]
                s.close()
        time.sleep(0.2)
    results.setdefault(key, []).extend([None] * len(pending))
    for s in pending:
        s.close()


def rss_watch(server, stop, peak):
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], server.rss_kb())
        except OSError:
            return
        stop.wait(0.05)


def pipeline_without_reading(server, request, total, label):
    """Sends up to `total` bytes of pipelined requests, never reading; the server must stop
    reading (or close) while its RSS stays within 64 MB of the start."""
    start_rss = server.rss_kb()
    peak = [start_rss]
    stop = threading.Event()
    t = threading.Thread(target=rss_watch, args=(server, stop, peak), daemon=True)
    t.start()
    s = connect(server.port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    burst = request * (65536 // len(request))
    sent, outcome = 0, "sent everything"
    s.settimeout(3.0)  # three seconds without progress: the server stopped reading
    deadline = time.monotonic() + 40
    try:
        while sent < total and time.monotonic() < deadline:
            sent += s.send(burst)
        if sent < total:
            outcome = "40 s passed"
    except socket.timeout:
        outcome = "server stopped reading"
    except OSError as e:
        outcome = f"server closed ({type(e).__name__})"
    time.sleep(1.0)
    stop.set()
    t.join(2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    grew = peak[0] - start_rss
    suite.check(f"{label}: RSS within 64 MB of its start", grew < 65536,
                f"{start_rss} kB → peak {peak[0]} kB after {sent >> 20} MB sent ({outcome})")
    print(f"  {label}: {sent / 1e6:.1f} MB sent, {outcome}; RSS {start_rss} kB → peak {peak[0]} kB (+{grew} kB)")


try:
    with Server() as plain, Server("--cert", cert, "--key", key) as tls:
        plain_fds, tls_fds = warm_up(plain), warm_up(tls, tls_ca=ca)
        # Silent and half-handshaken connections, watched in the background (default timeouts).
        results = {}
        silent = [socket.create_connection(("127.0.0.1", plain.port)) for _ in range(20)]
        tls_silent = [socket.create_connection(("127.0.0.1", tls.port)) for _ in range(10)]
        half = [socket.create_connection(("127.0.0.1", tls.port)) for _ in range(10)]
        prefix = client_hello_prefix()
        for s in half:
            s.sendall(prefix)
        watchers = [threading.Thread(target=watch_closed, args=(socks, 35, results, k), daemon=True)
                    for socks, k in ((silent, "silent"), (tls_silent, "tls-silent"), (half, "half"))]
        for w in watchers:
            w.start()
        started = time.monotonic()

        # A request preceded by CRLF is answered at once (RFC 9112 §2.2).
        with connect(plain.port) as s:
            t0 = time.monotonic()
            s.sendall(b"\r\nGET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
            try:
                r = ResponseReader(s).read(2.0)
                took = time.monotonic() - t0
                suite.check("CRLF then GET /hello → 200 at once (< 1 s)", r.status == 200 and took < 1.0, f"{r.status} after {took:.2f} s")
            except Exception as e:
                suite.error("CRLF then GET /hello → 200 at once", e)

        # A slow body is cut at --body-timeout.
        with Server("--body-timeout", "3") as slow:
            fds = warm_up(slow)
            s = connect(slow.port, timeout=10)
            s.sendall(b"POST /discard HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100)
            t0 = time.monotonic()
            reader = ResponseReader(s)
            try:
                r = reader.read(10)
                took = time.monotonic() - t0
                what = f"{r.status} after {took:.1f} s"
                ok = r.status in (408, 400) and 2.0 <= took <= 6.0 and reader.closed(2)
            except EOFError:
                took = time.monotonic() - t0
                what = f"closed after {took:.1f} s"
                ok = 2.0 <= took <= 6.0
            except TimeoutError:
                what, ok = "still open after 10 s", False
            s.close()
            suite.check("slow body cut at --body-timeout 3 (408 or close, 2–6 s)", ok, what)
            n = slow.wait_fds(fds)
            suite.check(f"--body-timeout server: descriptors back to {fds}", n <= fds, f"now {n}")

        # 200 MB of pipelined requests, no response read.
        pipeline_without_reading(plain, b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n", 200 << 20, "200 MB of pipelined GET /hello")
        pipeline_without_reading(plain, b"GET /bytes/65536 HTTP/1.1\r\nHost: localhost\r\n\r\n", 200 << 20, "200 MB of pipelined GET /bytes/65536")
        r = get(plain.port)
        suite.check("server still answers after the pipelining clients", r.status == 200, r.status)

        for w in watchers:
            w.join(max(0.0, 40 - (time.monotonic() - started)))
        for key, label in (("silent", "20 silent connections"), ("tls-silent", "10 silent TLS connections"),
                           ("half", "10 half-finished TLS handshakes")):
            times = results.get(key, [])
            open_ = sum(1 for t in times if t is None)
            done = sorted(t for t in times if t is not None)
            suite.check(f"{label} closed by default within 30 s", len(times) and open_ == 0 and done[-1] <= 31.0,
                        f"{open_} still open after 35 s" + (f"; closed after {done[0]:.1f}–{done[-1]:.1f} s" if done else ""))
        n = plain.wait_fds(plain_fds)
        suite.check(f"cleartext server: descriptors back to {plain_fds}", n <= plain_fds, f"now {n}")
        n = tls.wait_fds(tls_fds)
        suite.check(f"TLS server: descriptors back to {tls_fds}", n <= tls_fds, f"now {n}")
except Exception as e:
    suite.error("suite setup", e)
suite.finish()
