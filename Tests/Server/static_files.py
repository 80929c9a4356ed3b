"""Suite 8: static files (issue 15) against `epsilon serve DIR`. curl over HTTP/1.1, HTTP/2 with
TLS (a test CA made with openssl) and h2c: GET, HEAD, 304 for each validator, 412, 206/416,
If-Range, several ranges (the whole file), precompressed .br/.gz siblings with Vary, MIME types,
index, redirect and listing, files of 0 B, 1 B, 64 KiB and 200 MiB (sha256 compared). Then a
traversal corpus (raw sockets and `curl --path-as-is`, plus HTTP/2 frames) against a root with
`secret.txt` beside it: no answer contains the secret and each status is the documented one
(400 malformed, 403 hidden or leading out of the root, 404 otherwise). Last, 50 slow clients
(about 100 KiB/s each) download a 1 GiB file at once for about 20 s: the server's peak RSS is
printed and must stay under 200 MiB."""
import gzip
import hashlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from epsilon_suite import ResponseReader, Server, Suite, connect, make_tls
from h2_frames import H2Client, request_headers

suite = Suite("static")
SECRET = b"TOP-SECRET-7f3a9c"
work = tempfile.mkdtemp(prefix="epsilon-static-")
root = os.path.join(work, "root")


def write(rel, data):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def make_sparse(rel, size):
    """A big file made quickly: random first and last MiB, a hole in between."""
    path = os.path.join(root, rel)
    with open(path, "wb") as f:
        f.write(os.urandom(1 << 20))
        f.truncate(size)
        f.seek(size - (1 << 20))
        f.write(os.urandom(1 << 20))
    return path


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 22)
            if not block:
                return h.hexdigest()
            h.update(block)


# The tree: root/… and secret.txt beside it.
os.makedirs(root)
with open(os.path.join(work, "secret.txt"), "wb") as f:
    f.write(SECRET)
write("index.html", b"<!doctype html><title>site</title><h1>static index</h1>\n")
write("a.txt", b"hello, static world\n" * 10)
write("style.css", b"body { color: red }\n")
write("app.js", b"console.log('hi')\n")
write("data.json", b'{"ok":true}\n')
write("pic.png", b"\x89PNG\r\n\x1a\n" + os.urandom(100))
write("icon.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>\n")
write("mod.wasm", b"\x00asm\x01\x00\x00\x00")
write("blob.xyz", b"unknown type\n")
write("empty.bin", b"")
write("one.bin", b"A")
write("k64.bin", os.urandom(64 * 1024))
big = make_sparse("big.bin", 200 << 20)
text = (b"precompressed text, " * 200)
write("doc.txt", text)
write("doc.txt.gz", gzip.compress(text))
write("doc.txt.br", b"BROTLI-STAND-IN:" + os.urandom(64))  # served as is; the client does not decode
write("sub/index.html", b"<p>sub index</p>\n")
write("sub/page.html", b"<p>sub page</p>\n")
write("sub/.hidden", SECRET)
write(".hidden", SECRET)
write(".git/config", SECRET)
write("list/<b>&x.txt", b"escaped name\n")
write("list/plain.txt", b"plain\n")
os.symlink("../secret.txt", os.path.join(root, "escape"))
os.symlink("..", os.path.join(root, "escdir"))
os.symlink("/etc/passwd", os.path.join(root, "abs"))
os.symlink("a.txt", os.path.join(root, "inside-link"))
ca, cert, key = make_tls(work)


class Curl:
    """One curl run: status, headers (lowercased, last wins), body, HTTP version."""

    def __init__(self, base, extra, url_path, *args, timeout=120):
        out = os.path.join(work, "curl.body")
        heads = os.path.join(work, "curl.head")
        for stale in (out, heads):  # curl writes no body file for a 304, nor for an empty body
            if os.path.exists(stale):
                os.remove(stale)
        cmd = ["curl", "-s", "--path-as-is", "-o", out, "-D", heads, "-w", "%{http_code} %{http_version}",
               "--max-time", str(timeout), *extra, *args, base + url_path]
        r = subprocess.run(cmd, capture_output=True, timeout=timeout + 10)
        code, _, version = r.stdout.decode().partition(" ")
        self.status = int(code or 0)
        self.version = version
        self.headers = {}
        with open(heads, "ab+") as f:
            f.seek(0)
            for line in f.read().decode("latin-1").split("\r\n"):
                if line.startswith("HTTP/"):
                    self.headers = {}
                elif ":" in line:
                    k, _, v = line.partition(":")
                    self.headers[k.strip().lower()] = v.strip()
        with open(out, "ab+") as f:
            f.seek(0)
            self.body = f.read()

    def h(self, name):
        return self.headers.get(name.lower())


def transport_checks(label, base, extra, want_version):
    def get(path, *args, **kw):
        return Curl(base, extra, path, *args, **kw)

    c = check = lambda what, ok, detail="": suite.check(f"{label}: {what}", ok, detail)
    r = get("/")
    check("GET / is the index.html", r.status == 200 and b"static index" in r.body
          and r.h("content-type") == "text/html; charset=utf-8", f"{r.status} {r.h('content-type')}")
    check(f"protocol is HTTP/{want_version}", r.version == want_version, r.version)
    r = get("/hello")
    check("the default route /hello still answers", r.status == 200 and r.body == b"Hello, World!", f"{r.status}")
    a = get("/a.txt")
    etag, last_modified = a.h("etag"), a.h("last-modified")
    check("GET /a.txt: 200, body, length, ETag, Last-Modified, Accept-Ranges",
          a.status == 200 and a.body == b"hello, static world\n" * 10 and a.h("content-length") == "200"
          and etag and re.fullmatch(r'"[0-9a-f]+-c8-[0-9a-f]+"', etag) and last_modified
          and a.h("accept-ranges") == "bytes", f"{a.status} {a.headers}")
    r = get("/a.txt", "-I")
    check("HEAD /a.txt: 200, Content-Length 200, the same ETag", r.status == 200 and r.h("content-length") == "200"
          and r.h("etag") == etag, f"{r.status} {r.headers}")
    # Validators.
    r = get("/a.txt", "-H", f"If-None-Match: {etag}")
    check("If-None-Match matching → 304 with the ETag, no body",
          r.status == 304 and r.body == b"" and r.h("etag") == etag, f"{r.status}")
    r = get("/a.txt", "-H", f'If-None-Match: "nope", W/{etag}')
    check("If-None-Match list with a weak match → 304", r.status == 304, f"{r.status}")
    r = get("/a.txt", "-H", "If-None-Match: *")
    check("If-None-Match * → 304", r.status == 304, f"{r.status}")
    r = get("/a.txt", "-H", f"If-Modified-Since: {last_modified}")
    check("If-Modified-Since = Last-Modified → 304", r.status == 304 and r.body == b"", f"{r.status}")
    r = get("/a.txt", "-H", "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT")
    check("If-Modified-Since in the past → 200", r.status == 200, f"{r.status}")
    r = get("/a.txt", "-H", 'If-None-Match: "other"', "-H", f"If-Modified-Since: {last_modified}")
    check("If-None-Match (no match) wins over If-Modified-Since → 200", r.status == 200, f"{r.status}")
    r = get("/a.txt", "-H", 'If-Match: "other"')
    check("If-Match not matching → 412", r.status == 412, f"{r.status}")
    r = get("/a.txt", "-H", f"If-Match: {etag}")
    check("If-Match matching → 200", r.status == 200, f"{r.status}")
    r = get("/a.txt", "-H", f"If-Match: W/{etag}")
    check("If-Match compares strongly (a weak tag fails) → 412", r.status == 412, f"{r.status}")
    r = get("/a.txt", "-H", "If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT")
    check("If-Unmodified-Since before the change → 412", r.status == 412, f"{r.status}")
    r = get("/a.txt", "-H", f"If-Match: {etag}", "-H", "If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT")
    check("If-Match (matching) wins over If-Unmodified-Since → 200", r.status == 200, f"{r.status}")
    # Ranges.
    body = a.body
    for spec, lo, hi in (("0-0", 0, 0), ("10-19", 10, 19), ("-5", 195, 199), ("190-", 190, 199), ("150-9999", 150, 199)):
        r = get("/a.txt", "-H", f"Range: bytes={spec}")
        check(f"Range bytes={spec} → 206, Content-Range bytes {lo}-{hi}/200",
              r.status == 206 and r.body == body[lo:hi + 1] and r.h("content-range") == f"bytes {lo}-{hi}/200"
              and r.h("content-length") == str(hi - lo + 1), f"{r.status} {r.h('content-range')} {len(r.body)}")
    r = get("/a.txt", "-H", "Range: bytes=200-")
    check("Range past the end → 416 with Content-Range bytes */200",
          r.status == 416 and r.h("content-range") == "bytes */200", f"{r.status} {r.h('content-range')}")
    r = get("/empty.bin", "-H", "Range: bytes=0-")
    check("Range on an empty file → 416 bytes */0", r.status == 416 and r.h("content-range") == "bytes */0", f"{r.status}")
    r = get("/a.txt", "-H", "Range: bytes=0-1,5-6")
    check("several ranges → 200 with the whole file (documented)", r.status == 200 and r.body == body, f"{r.status}")
    r = get("/a.txt", "-H", "Range: bytes=0-3", "-H", f"If-Range: {etag}")
    check("If-Range with the current ETag → 206", r.status == 206 and r.body == body[:4], f"{r.status}")
    r = get("/a.txt", "-H", "Range: bytes=0-3", "-H", 'If-Range: "old"')
    check("If-Range with another ETag → 200 whole", r.status == 200 and r.body == body, f"{r.status}")
    r = get("/a.txt", "-H", "Range: bytes=0-3", "-H", f"If-Range: {last_modified}")
    check("If-Range with the Last-Modified date → 206", r.status == 206 and r.body == body[:4], f"{r.status}")
    r = get("/a.txt", "-H", "Range: bytes=0-3", "-H", "If-Range: Sat, 01 Jan 2000 00:00:00 GMT")
    check("If-Range with another date → 200 whole", r.status == 200 and r.body == body, f"{r.status}")
    r = get("/a.txt", "-I", "-H", "Range: bytes=0-3")
    check("HEAD ignores Range → 200", r.status == 200 and r.h("content-length") == "200", f"{r.status}")
    # Precompressed siblings.
    with open(os.path.join(root, "doc.txt.gz"), "rb") as f:
        gz = f.read()
    with open(os.path.join(root, "doc.txt.br"), "rb") as f:
        br = f.read()
    for accept, want, coding in (("gzip", gz, "gzip"), ("br", br, "br"), ("gzip, br", br, "br"),
                                 ("br;q=0.5, gzip", gz, "gzip"), ("gzip;q=0, br;q=0", text, None),
                                 ("identity", text, None), ("*", br, "br"), (None, text, None)):
        args = ("-H", f"Accept-Encoding: {accept}") if accept is not None else ()
        r = get("/doc.txt", *args)
        check(f"Accept-Encoding {accept!r} → {coding or 'identity'}, Vary, text/plain",
              r.status == 200 and r.body == want and r.h("content-encoding") == coding
              and r.h("vary") == "Accept-Encoding" and r.h("content-type") == "text/plain; charset=utf-8",
              f"{r.status} {r.h('content-encoding')} {r.h('vary')} {len(r.body)}")
    g = get("/doc.txt", "-H", "Accept-Encoding: gzip")
    r = get("/doc.txt", "-H", "Accept-Encoding: gzip", "-H", f"If-None-Match: {g.h('etag')}")
    check("the gzip variant has its own ETag, and 304s on it", g.h("etag", ) != get("/doc.txt").h("etag")
          and g.h("etag", ).endswith('-gz"') and r.status == 304 and r.h("vary") == "Accept-Encoding", f"{r.status}")
    r = get("/doc.txt", "-H", "Accept-Encoding: gzip", "-H", "Range: bytes=0-9")
    check("a range of the gzip variant → 206 of the .gz bytes", r.status == 206 and r.body == gz[:10], f"{r.status}")
    # Types.
    for path, ctype in (("/style.css", "text/css; charset=utf-8"), ("/app.js", "text/javascript; charset=utf-8"),
                        ("/data.json", "application/json; charset=utf-8"), ("/pic.png", "image/png"),
                        ("/icon.svg", "image/svg+xml; charset=utf-8"), ("/mod.wasm", "application/wasm"),
                        ("/blob.xyz", "application/octet-stream"), ("/sub/page.html", "text/html; charset=utf-8")):
        r = get(path)
        check(f"{path} is {ctype}", r.status == 200 and r.h("content-type") == ctype, f"{r.status} {r.h('content-type')}")
    # Directories.
    r = get("/sub")
    check("/sub → 301 Location /sub/", r.status == 301 and r.h("location") == "/sub/", f"{r.status} {r.h('location')}")
    r = get("/sub?x=1")
    check("/sub?x=1 → 301 Location /sub/?x=1", r.status == 301 and r.h("location") == "/sub/?x=1", f"{r.h('location')}")
    r = get("/sub/")
    check("/sub/ → its index.html", r.status == 200 and r.body == b"<p>sub index</p>\n", f"{r.status}")
    r = get("/list/")
    check("/list/ without index and without --listing → 404", r.status == 404, f"{r.status}")
    r = get("/inside-link")
    check("a symlink that stays inside the root is served", r.status == 200 and r.body == body, f"{r.status}")
    # Sizes, by hash.
    for name, size in (("empty.bin", 0), ("one.bin", 1), ("k64.bin", 65536), ("big.bin", 200 << 20)):
        path = os.path.join(root, name)
        t0 = time.monotonic()
        r = get("/" + name, timeout=240)
        took = time.monotonic() - t0
        ok = r.status == 200 and len(r.body) == size and hashlib.sha256(r.body).hexdigest() == sha256_file(path)
        check(f"{name} ({size} B) by sha256" + (f", {size / took / 1e6:.0f} MB/s" if size > 1 << 20 else ""),
              ok, f"{r.status} {len(r.body)}")
        r.body = b""


def listing_checks():
    with Server(root, "--listing", "--cache-control", "public, max-age=60") as server:
        base = f"http://127.0.0.1:{server.port}"
        r = Curl(base, [], "/list/")
        escaped = b"&lt;b&gt;&amp;x.txt" in r.body and b"<b>&x" not in r.body
        suite.check("--listing: /list/ lists the names, HTML-escaped, links percent-encoded",
                    r.status == 200 and escaped and b'href="./%3Cb%3E%26x.txt"' in r.body and b"plain.txt" in r.body,
                    r.body[:300])
        r = Curl(base, [], "/sub/")
        suite.check("--listing: a directory with an index still serves it", r.body == b"<p>sub index</p>\n", f"{r.status}")
        r = Curl(base, [], "/")
        suite.check("--listing: / serves index.html, not a listing", b"static index" in r.body, f"{r.status}")
        r = Curl(base, [], "/a.txt")
        r304 = Curl(base, [], "/a.txt", "-H", f"If-None-Match: {r.h('etag')}")
        suite.check("--cache-control: on 200 and 304", r.h("cache-control") == "public, max-age=60"
                    and r304.status == 304 and r304.h("cache-control") == "public, max-age=60", f"{r.headers}")
        os.mkdir(os.path.join(root, "noindex"))
        write("noindex/.dot", SECRET)
        r = Curl(base, [], "/noindex/")
        suite.check("--listing leaves dot-files out", r.status == 200 and b".dot" not in r.body, r.body[:200])
    with Server(root, "--follow-symlinks") as server:
        r = Curl(f"http://127.0.0.1:{server.port}", [], "/escape")
        suite.check("--follow-symlinks: a symlink out of the root is served", r.status == 200 and r.body == SECRET, f"{r.status}")


# (raw target, expected status). Sent byte for byte on HTTP/1.1.
CORPUS = [
    ("/../secret.txt", 400), ("/..%2fsecret.txt", 400), ("/%2e%2e/secret.txt", 400), ("/%2e%2e%2fsecret.txt", 400),
    ("/%2E%2E/secret.txt", 400), ("/.%2e/secret.txt", 400), ("/%2e./secret.txt", 400), ("/sub/../../secret.txt", 400),
    ("/sub/%2e%2e/%2e%2e/secret.txt", 400), ("/..%5csecret.txt", 400), ("/%5c..%5csecret.txt", 400),
    ("/sub%5c..%5c..%5csecret.txt", 400), ("/..%00/secret.txt", 400), ("/secret.txt%00.html", 400),
    ("/a.txt%00", 400), ("/%c0%ae%c0%ae/secret.txt", 400), ("/%c0%af..%c0%afsecret.txt", 400),
    ("/%e0%80%ae%e0%80%ae/secret.txt", 400), ("/%c1%9c..%c1%9csecret.txt", 400), ("/%c0%2e%c0%2e/secret.txt", 400),
    ("/%ff%fe/secret.txt", 400), ("//secret.txt", 400), ("/sub//../secret.txt", 400), ("/./secret.txt", 400),
    ("/%2e/secret.txt", 400), ("/%2fsecret.txt", 400), ("/%2f..%2fsecret.txt", 400), ("/a.txt%2f", 400),
    ("/sub/..%2f..%2fsecret.txt", 400), ("/..", 400), ("/sub/..", 400), ("/sub/../a.txt", 400),
    ("/%zz/secret.txt", 400), ("/%", 400), ("/%2", 400), ("/%u002e%u002e/secret.txt", 400),
    ("/a.txt%09", 400), ("/%0d%0aSet-Cookie:x", 400), ("/....//secret.txt", 400),
    ("/..;/secret.txt", 403), ("/.;/secret.txt", 403), ("/..%252fsecret.txt", 403), ("/.hidden", 403),
    ("/sub/.hidden", 403), ("/%2ehidden", 403), ("/.git/config", 403), ("/escape", 403), ("/escdir/secret.txt", 403),
    ("/escdir/", 403), ("/escdir", 403), ("/abs", 403),
    ("/secret.txt", 404), ("/etc/passwd", 404), ("/%252e%252e/secret.txt", 404), ("/nothing/here", 404),
    ("/a.txt/", 404),
    ("http://127.0.0.1/../secret.txt", 400), ("http://127.0.0.1/%2e%2e/secret.txt", 400),
    ("http://127.0.0.1/escape", 403), ("http://127.0.0.1//secret.txt", 400),
]
RAW_ONLY = [  # targets no URL tool sends as is
    (b"GET /..\\secret.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /sub\\..\\..\\secret.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET file:///etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET \\..\\secret.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
]


def raw_status(port, request):
    s = connect(port)
    try:
        s.sendall(request)
        r = ResponseReader(s).read(5)
        return r.status, r.body
    finally:
        s.close()


def traversal_checks():
    with Server(root, "--h2c") as server:
        s = connect(server.port)
        s.sendall(b"HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /one.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        reader = ResponseReader(s)
        head, after = reader.read(5, head=True), reader.read(5)
        s.close()
        suite.check("HEAD sends no body (a pipelined GET after it parses)", head.status == 200
                    and head.header("content-length") == "200" and after.status == 200 and after.body == b"A",
                    f"{head.status} {after.status} {after.body[:20]!r}")
        secret_seen = []
        for target, want in CORPUS:
            request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            try:
                status, body = raw_status(server.port, request)
            except Exception as e:
                suite.error(f"traversal {target}", e)
                continue
            if SECRET in body:
                secret_seen.append(target)
            suite.check(f"traversal {target} → {want}", status == want and SECRET not in body, f"got {status}")
        for request, want in RAW_ONLY:
            status, body = raw_status(server.port, request)
            if SECRET in body:
                secret_seen.append(request)
            suite.check(f"traversal raw {request.split(b' ')[1].decode()} → {want}", status == want, f"got {status}")
        # curl --path-as-is for a few, as a second client.
        for target, want in CORPUS[:6] + [("/escape", 403), ("/.hidden", 403)]:
            r = Curl(f"http://127.0.0.1:{server.port}", [], target)
            suite.check(f"curl --path-as-is {target} → {want}", r.status == want and SECRET not in r.body, f"{r.status}")
        # HTTP/2: :path is taken as sent.
        h2_targets = [t for t in CORPUS if not t[0].startswith("http")][:30]
        client = H2Client(server.port)
        client.settle()
        for i, (target, want) in enumerate(h2_targets):
            client.headers(1 + 2 * i, request_headers(target))
        out = client.read_until(lambda o: all((1 + 2 * i) in o.ended or (1 + 2 * i) in o.resets
                                              for i in range(len(h2_targets))), 10)
        wrong = [(t, out.statuses.get(1 + 2 * i)) for i, (t, w) in enumerate(h2_targets)
                 if out.statuses.get(1 + 2 * i) != w and (1 + 2 * i) not in out.resets]
        leaked = any(SECRET in v for v in out.data.values())
        suite.check(f"h2c: {len(h2_targets)} traversal :paths answered as documented (or reset), no secret",
                    not wrong and not leaked and len(out.statuses) + len(out.resets) >= len(h2_targets), f"{wrong[:5]}")
        client.close()
        suite.check(f"traversal: {len(CORPUS) + len(RAW_ONLY)} targets, none returned the secret", not secret_seen,
                    f"{secret_seen}")


def slow_reader(port, results, i, stop_at, rate=100 * 1024, tls=None):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        if tls:
            s = tls.wrap_socket(s, server_hostname="localhost")
        s.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        got = 0
        head = b""
        t0 = time.monotonic()
        while time.monotonic() < stop_at:
            data = s.recv(16 * 1024)
            if not data:
                break
            if not head:
                head = data[:12]
            got += len(data)
            ahead = got / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(min(ahead, 0.5))
        results[i] = (head, got)
        s.close()
    except Exception as e:
        results[i] = (f"{type(e).__name__}: {e}", 0)


def memory_round(label, seconds, server_args, tls=None):
    """50 slow HTTP/1.1 clients on /huge.bin for `seconds`; checks the server's peak RSS."""
    with Server(root, *server_args) as server:
        base_rss = server.rss_kb()
        results = [None] * 50
        stop_at = time.monotonic() + seconds
        threads = [threading.Thread(target=slow_reader, args=(server.port, results, i, stop_at, 100 * 1024, tls),
                                    daemon=True) for i in range(50)]
        for t in threads:
            t.start()
        peak = base_rss
        while time.monotonic() < stop_at:
            peak = max(peak, server.rss_kb())
            time.sleep(0.2)
        for t in threads:
            t.join(15)
        good = sum(1 for r in results if r and r[0] == b"HTTP/1.1 200" and r[1] > 512 * 1024)
        total = sum(r[1] for r in results if r)
        print(f"  memory ({label}): 50 clients × 1 GiB at ~100 KiB/s for {seconds} s: {total / 1e6:.0f} MB sent in all, "
              f"server RSS {base_rss / 1024:.1f} MiB at start, peak {peak / 1024:.1f} MiB", flush=True)
        suite.check(f"memory ({label}): all 50 slow clients got 200 and were being served", good == 50,
                    f"{good} good; {[r for r in results if not r or r[0] != b'HTTP/1.1 200'][:3]}")
        suite.check(f"memory ({label}): peak RSS {peak / 1024:.1f} MiB < 200 MiB serving 1 GiB to 50 slow clients",
                    peak < 200 * 1024, f"{peak} KiB")
        suite.check(f"memory ({label}): the server is still alive", server.alive(), "")


def memory_h2c(seconds=12, clients=20):
    """Slow HTTP/2 readers (curl --limit-rate over h2c): flow control paces the reads."""
    with Server(root, "--h2c") as server:
        base_rss = server.rss_kb()
        procs = [subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                   "--http2-prior-knowledge", "--limit-rate", "100K", "--max-time", str(seconds),
                                   f"http://127.0.0.1:{server.port}/huge.bin"], stdout=subprocess.PIPE)
                 for _ in range(clients)]
        peak = base_rss
        stop_at = time.monotonic() + seconds + 1
        while time.monotonic() < stop_at:
            peak = max(peak, server.rss_kb())
            time.sleep(0.2)
        outs = [p.communicate(timeout=15)[0].decode().split() for p in procs]
        good = sum(1 for o in outs if len(o) == 2 and o[0] == "200" and int(o[1]) > 256 * 1024)
        print(f"  memory (h2c): {clients} curl --limit-rate 100K × 1 GiB for {seconds} s: server RSS "
              f"{base_rss / 1024:.1f} MiB at start, peak {peak / 1024:.1f} MiB", flush=True)
        suite.check(f"memory (h2c): all {clients} slow HTTP/2 clients were being served", good == clients, f"{outs[:3]}")
        suite.check(f"memory (h2c): peak RSS {peak / 1024:.1f} MiB < 200 MiB", peak < 200 * 1024, f"{peak} KiB")


def memory_checks():
    import ssl
    huge = make_sparse("huge.bin", 1 << 30)
    memory_round("HTTP/1.1, sendfile", 20, [])
    tls = ssl.create_default_context(cafile=ca)
    tls.set_alpn_protocols(["http/1.1"])
    memory_round("HTTP/1.1 over TLS, bounded reads", 12, ["--cert", cert, "--key", key], tls)
    memory_h2c()
    os.remove(huge)


# STATIC_PARTS=traversal,memory (say) runs only those parts; all by default.
parts = os.environ.get("STATIC_PARTS", "transports,listing,traversal,memory").split(",")
try:
    if "transports" in parts:
        with Server(root) as server:
            transport_checks("HTTP/1.1", f"http://127.0.0.1:{server.port}", ["--http1.1"], "1.1")
        with Server(root, "--cert", cert, "--key", key) as server:
            transport_checks("h2 (TLS)", f"https://localhost:{server.port}", ["--http2", "--cacert", ca], "2")
        with Server(root, "--h2c") as server:
            transport_checks("h2c", f"http://127.0.0.1:{server.port}", ["--http2-prior-knowledge"], "2")
    if "listing" in parts:
        listing_checks()
    if "traversal" in parts:
        traversal_checks()
    if "memory" in parts:
        memory_checks()
except Exception as e:
    suite.error("suite", e)
finally:
    shutil.rmtree(work, ignore_errors=True)
suite.finish()
