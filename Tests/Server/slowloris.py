"""Suite 4: slow-loris. 1,000 connections each send one header byte per second; with
--head-timeout 5 every one is cut between 4 and 9 seconds after it connected (a 408 or a close),
while a normal client keeps getting answers (each under 1 s). Then the default: 100 such
connections against a server with no flags are cut at the default head timeout (10 s)."""
import selectors
import socket
import threading
import time

from epsilon_suite import warm_up, ResponseReader, Server, Suite, connect, raise_fd_limit

suite = Suite("slowloris")
raise_fd_limit(20000)
TRICKLE = b"GET /hello HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200  # never finished


def loris(port, count, limit):
    """Opens `count` connections, sends one byte a second on each, returns their lifetimes (None:
    still open at `limit` seconds)."""
    sel = selectors.DefaultSelector()
    socks, opened, cut, sent = [], {}, {}, {}
    for i in range(count):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
        opened[s] = time.monotonic()
        sent[s] = 0
        sel.register(s, selectors.EVENT_READ)
    start = time.monotonic()
    next_tick = start
    while time.monotonic() - start < limit and len(cut) < count:
        now = time.monotonic()
        if now >= next_tick:
            for s in socks:
                if s in cut:
                    continue
                try:
                    s.send(TRICKLE[sent[s] % len(TRICKLE):][:1])
                    sent[s] += 1
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    cut[s] = time.monotonic() - opened[s]
                    sel.unregister(s)
            next_tick += 1.0
        for key, _ in sel.select(timeout=max(0.0, min(next_tick - time.monotonic(), 0.2))):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data or data.startswith(b"HTTP/1.1 408"):
                cut[s] = time.monotonic() - opened[s]
                sel.unregister(s)
    for s in socks:
        s.close()
    return [cut.get(s) for s in socks]


class Prober(threading.Thread):
    """A normal client: one GET /hello every 100 ms on a keep-alive connection (reconnecting if
    the server closes it), recording each latency or failure."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.latencies, self.failures, self.stop = port, [], [], threading.Event()

    def run(self):
        sock = reader = None
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                if sock is None:
                    sock = connect(self.port, timeout=2)
                    reader = ResponseReader(sock)
                sock.sendall(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
                r = reader.read(2.0)
                if r.status != 200:
                    self.failures.append(f"status {r.status}")
                self.latencies.append(time.monotonic() - t0)
            except EOFError:
                sock = None  # keep-alive closed by the server: reconnect, not a failure
            except Exception as e:
                self.failures.append(f"{type(e).__name__}: {e}")
                sock = None
            self.stop.wait(0.1)
        if sock is not None:
            sock.close()


try:
    with Server("--head-timeout", "5") as server:
        start_fds = warm_up(server)
        prober = Prober(server.port)
        prober.start()
        lifetimes = loris(server.port, 1000, 15)
        prober.stop.set()
        prober.join(5)
        still = sum(1 for t in lifetimes if t is None)
        early = sum(1 for t in lifetimes if t is not None and t < 4.0)
        cut = sorted(t for t in lifetimes if t is not None)
        spread = f"cut after {cut[0]:.1f}–{cut[-1]:.1f} s" if cut else "none cut"
        suite.check("--head-timeout 5: all 1,000 slow connections cut within 9 s", still == 0 and (not cut or cut[-1] <= 9.0),
                    f"{still} still open after 15 s; {spread}")
        suite.check("--head-timeout 5: none cut before 4 s", early == 0, f"{early} cut early; {spread}")
        lat = sorted(prober.latencies)
        worst = lat[-1] if lat else None
        suite.check("a normal client kept getting answers (≥ 20, none failed, each under 1 s)",
                    len(lat) >= 20 and not prober.failures and worst < 1.0,
                    f"{len(lat)} answers, worst {worst}, failures {prober.failures[:3]}")
        if lat:
            print(f"  normal client: {len(lat)} answers, p50 {lat[len(lat) // 2] * 1000:.1f} ms, max {worst * 1000:.1f} ms")
        n = server.wait_fds(start_fds)
        suite.check(f"descriptors back to {start_fds}", n <= start_fds, f"now {n}")
    with Server() as server:
        lifetimes = loris(server.port, 100, 20)
        cut = sorted(t for t in lifetimes if t is not None)
        still = sum(1 for t in lifetimes if t is None)
        suite.check("default head timeout: 100 slow connections cut between 9 and 14 s",
                    still == 0 and cut[0] >= 9.0 and cut[-1] <= 14.0,
                    f"{still} still open after 20 s; " + (f"cut after {cut[0]:.1f}–{cut[-1]:.1f} s" if cut else "none cut"))
except Exception as e:
    suite.error("suite setup", e)
suite.finish()
