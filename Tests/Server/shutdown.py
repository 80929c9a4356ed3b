"""Suite 7: graceful shutdown. 100 requests to /delay/2000 in flight (HTTP/1.1, one connection
each) plus an HTTP/2 connection with streams in flight and an idle keep-alive connection; then
SIGTERM: every in-flight request completes with 200 `done`, the HTTP/2 peer gets GOAWAY and its
streams complete, the idle connection is closed, new connections are refused, and the process
prints its stopped line and exits 0 within the grace period."""
import re
import signal
import socket
import threading
import time

from epsilon_suite import ResponseReader, Server, Suite, connect
from h2_frames import GOAWAY, H2Client, request_headers

suite = Suite("shutdown")
GRACE = 10


def in_flight(port, results, i, sent):
    try:
        s = connect(port, timeout=15)
        s.sendall(b"GET /delay/2000 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        sent.release()
        r = ResponseReader(s).read(15)
        results[i] = (r.status, r.body)
        s.close()
    except Exception as e:
        results[i] = (None, f"{type(e).__name__}: {e}")
        sent.release()


try:
    server = Server("--h2c", "--grace-period", str(GRACE))
    try:
        results = [None] * 100
        sent = threading.Semaphore(0)
        threads = [threading.Thread(target=in_flight, args=(server.port, results, i, sent), daemon=True) for i in range(100)]
        for t in threads:
            t.start()
        for _ in range(100):
            sent.acquire(timeout=10)
        h2 = H2Client(server.port)
        for sid in (1, 3, 5):
            h2.headers(sid, request_headers("/delay/2000"))
        idle = connect(server.port)
        idle.sendall(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        idle_reader = ResponseReader(idle)
        idle_reader.read(5)  # served; now idle keep-alive
        time.sleep(0.5)  # the requests reach their handlers
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # New connections are refused after the signal.
        refused = 0
        for _ in range(5):
            try:
                s = socket.create_connection(("127.0.0.1", server.port), timeout=2)
                s.sendall(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
                s.settimeout(2)
                data = s.recv(100)
                if not data:
                    refused += 1  # accepted by the kernel backlog but closed unanswered
                s.close()
            except (ConnectionRefusedError, ConnectionResetError):
                refused += 1
            except OSError:
                refused += 1
            time.sleep(0.05)
        suite.check("new connections refused after SIGTERM (5 of 5)", refused == 5, f"{refused} of 5 refused")
        suite.check("idle keep-alive connection closed promptly", idle_reader.closed(3), "still open 3 s after SIGTERM")
        o = h2.read_until(lambda o: o.goaway is not None and {1, 3, 5} <= o.ended, 10)
        suite.check("HTTP/2 peer gets GOAWAY NO_ERROR and its 3 in-flight streams complete",
                    o.goaway is not None and o.goaway[1] == "NO_ERROR" and all(o.statuses.get(s) == 200 for s in (1, 3, 5)),
                    o.describe())
        h2.close()
        for t in threads:
            t.join(max(0.1, 15 - (time.monotonic() - t0)))
        good = sum(1 for r in results if r == (200, b"done"))
        suite.check("all 100 in-flight HTTP/1.1 requests completed with 200 done", good == 100,
                    f"{good} of 100; others: {[r for r in results if r != (200, b'done')][:3]}")
        try:
            code = server.proc.wait(GRACE + 2)
        except Exception:
            code = None
        took = time.monotonic() - t0
        suite.check(f"process exits 0 within the grace period ({GRACE} s)", code == 0 and took <= GRACE + 1,
                    f"exit {code} after {took:.1f} s")
        time.sleep(0.2)
        stopped = [l for l in server.lines if "stopped" in l]
        suite.check("prints `epsilon serve: stopped (0 connection(s) closed by force)`",
                    any(re.fullmatch(r"epsilon serve: stopped \(0 connection\(s\) closed by force\)", l) for l in stopped),
                    f"lines: {server.lines[-3:]}")
    finally:
        server.kill()
    # A handler longer than the grace period: closed by force, still exit 0 within the period.
    server = Server("--grace-period", "2")
    try:
        s = connect(server.port, timeout=10)
        s.sendall(b"GET /delay/20000 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        time.sleep(0.3)
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGINT)
        try:
            code = server.proc.wait(6)
        except Exception:
            code = None
        took = time.monotonic() - t0
        suite.check("SIGINT with a 20 s request and --grace-period 2: exit 0 after ~2 s", code == 0 and 1.5 <= took <= 3.5,
                    f"exit {code} after {took:.1f} s")
        time.sleep(0.2)
        suite.check("prints `stopped (1 connection(s) closed by force)`",
                    any(re.fullmatch(r"epsilon serve: stopped \(1 connection\(s\) closed by force\)", l) for l in server.lines),
                    f"lines: {server.lines[-3:]}")
        s.close()
    finally:
        server.kill()
except Exception as e:
    suite.error("suite setup", e)
suite.finish()
