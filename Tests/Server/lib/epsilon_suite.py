"""Shared helpers for the black-box suites in Tests/Server: start `epsilon serve` on 127.0.0.1
with --port 0, read its listening line, count its descriptors and memory, make a test CA, speak
raw HTTP/1.1, and report checks. Python 3 standard library only."""
import os
import re
import resource
import select
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

EPSILON = os.environ.get("EPSILON", ".build/release/epsilon")
# Extra arguments for every server (e.g. `--plain-hello` to try the suites on the preview).
EXTRA_ARGS = os.environ.get("EPSILON_ARGS", "").split()
LISTENING = re.compile(r"listening on (\S+):(\d+)")
LISTENING_PREVIEW = re.compile(r"\bon (\S+):(\d+)")  # the preview server's line


def raise_fd_limit(n=20000):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


class Server:
    """One `epsilon serve` process. Its stdout is collected line by line in `lines`."""

    def __init__(self, *args, start_timeout=20.0):
        self.args = ["serve", "--host", "127.0.0.1", "--port", "0", *args, *EXTRA_ARGS]
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([EPSILON, *self.args], stdout=subprocess.PIPE,
                                     stderr=self.stderr, stdin=subprocess.DEVNULL,
                                     preexec_fn=lambda: raise_fd_limit(20000))
        self.lines = []
        self._first = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._first.wait(start_timeout) or not self.lines:
            self.kill()
            raise RuntimeError(f"epsilon {' '.join(self.args)}: no listening line within {start_timeout}s; "
                               f"stderr: {self.stderr_text()[-400:]}")
        m = LISTENING.search(self.lines[0]) or LISTENING_PREVIEW.search(self.lines[0])
        if not m:
            self.kill()
            raise RuntimeError(f"unexpected first line: {self.lines[0]!r}")
        self.host = m.group(1).strip("[]")
        self.port = int(m.group(2))
        self.pid = self.proc.pid

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
            self._first.set()
        self._first.set()

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc.poll() is None

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kb(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def wait_fds(self, target, timeout=5.0):
        """Waits (bounded) until the descriptor count is at most `target`; returns the last count."""
        deadline = time.monotonic() + timeout
        n = self.fd_count()
        while n > target and time.monotonic() < deadline:
            time.sleep(0.1)
            n = self.fd_count()
        return n

    def stable_fds(self, timeout=3.0):
        """The descriptor count once it holds still for 0.3 s (connections just closed by a client
        may still be open on the server's side for a moment)."""
        deadline = time.monotonic() + timeout
        last = self.fd_count()
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.fd_count()
            if now == last:
                return now
            last = now
        return last

    def stop(self, timeout=15.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Suite:
    """Counts checks and prints one line each; `finish` prints `NAME: N passed, M failed` and exits."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()
        self.started = time.monotonic()

    def check(self, label, ok, detail=""):
        with self.lock:
            if ok:
                self.passed += 1
                print(f"  ok   {label}", flush=True)
            else:
                self.failed += 1
                print(f"  FAIL {label}: {detail}", flush=True)
        return ok

    def error(self, label, exc):
        return self.check(label, False, f"{type(exc).__name__}: {exc}")

    def finish(self):
        took = time.monotonic() - self.started
        print(f"{self.name}: {self.passed} passed, {self.failed} failed ({took:.1f} s)", flush=True)
        sys.exit(1 if self.failed or not self.passed else 0)


def pattern_bytes(n):
    """The body of GET /bytes/n: byte i is i % 256."""
    block = bytes(range(256))
    return (block * (n // 256 + 1))[:n]


def make_tls(folder):
    """A test CA and a certificate for 127.0.0.1/localhost signed by it; returns (ca, cert, key)."""
    ca_key, ca = os.path.join(folder, "ca.key"), os.path.join(folder, "ca.pem")
    key, csr, cert = (os.path.join(folder, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(folder, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True, timeout=60)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=Epsilon Test CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(port, host="127.0.0.1", timeout=5.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class HTTPResponse:
    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


class ResponseReader:
    """Reads HTTP/1.1 responses from a socket (Content-Length, chunked, or to EOF)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("response timed out")
        r, _, _ = select.select([self.sock], [], [], remaining)
        if not r:
            raise TimeoutError("response timed out")
        try:
            data = self.sock.recv(1 << 16)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            raise EOFError("connection closed")
        self.buf += data

    def _line(self, deadline):
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read(self, timeout=5.0, head=False):
        """One response; informational (1xx) responses are skipped. `head`: no body (HEAD)."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\r\n\r\n" not in self.buf:
                self._fill(deadline)
            status_line = self._line(deadline)
            parts = status_line.decode("latin-1").split(" ", 2)
            status = int(parts[1])
            headers = []
            while True:
                line = self._line(deadline)
                if not line:
                    break
                k, _, v = line.decode("latin-1").partition(":")
                headers.append((k.strip(), v.strip()))
            if 100 <= status < 200 and status != 101:
                continue
            resp = HTTPResponse(status, parts[2] if len(parts) > 2 else "", headers, b"")
            if head or status in (204, 304) or status == 101:
                return resp
            te = (resp.header("transfer-encoding") or "").lower()
            cl = resp.header("content-length")
            if "chunked" in te:
                body = []
                while True:
                    size = int(self._line(deadline).split(b";")[0], 16)
                    if size == 0:
                        while self._line(deadline):
                            pass
                        break
                    body.append(self._exact(size, deadline))
                    self._exact(2, deadline)
                resp.body = b"".join(body)
            elif cl is not None:
                resp.body = self._exact(int(cl), deadline)
            else:
                try:
                    while True:
                        self._fill(deadline)
                except EOFError:
                    pass
                resp.body, self.buf = self.buf, b""
            return resp

    def closed(self, timeout=3.0):
        """True when the peer closes (EOF or reset) within `timeout` with nothing more to read."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._fill(deadline)
        except EOFError:
            return True
        except TimeoutError:
            return False


def get(port, path="/hello", timeout=5.0, host="127.0.0.1"):
    """One GET on a new connection; returns the response."""
    with connect(port, host, timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        return ResponseReader(s).read(timeout)


def warm_up(server, count=8, tls_ca=None, h2=False):
    """Makes `count` connections at once, each with a request that arms a timer (/delay/20), so
    every event loop has made its lazily created descriptors (a timerfd on first use) before a
    suite takes its descriptor baseline; then returns the stable count."""
    socks = []
    for _ in range(count):
        s = connect(server.port)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            ctx.set_alpn_protocols(["h2"] if h2 else ["http/1.1"])
            s = ctx.wrap_socket(s, server_hostname="localhost")
        socks.append(s)
    if h2:
        from h2_frames import H2Client  # raw HTTP/2 client (needs the hpack module)
        for s in socks:
            s.close()
        clients = [H2Client(server.port, tls_ca=tls_ca) for _ in range(count)]
        for c in clients:
            c.headers(1, [(":method", "GET"), (":scheme", "http"), (":path", "/delay/20"), (":authority", "localhost")])
        for c in clients:
            c.read_until(lambda o: 1 in o.ended, 5)
            c.close()
    else:
        for s in socks:
            s.sendall(b"GET /delay/20 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        for s in socks:
            try:
                ResponseReader(s).read(5)
            except (EOFError, TimeoutError):
                pass
            s.close()
    return server.stable_fds()

