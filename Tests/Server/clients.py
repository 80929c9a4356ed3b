"""Suite 1: real clients against `epsilon serve` over loopback — curl (HTTP/1.1, HTTP/2 over TLS
with ALPN h2, prior knowledge, Upgrade h2c), nghttp (TLS and h2c) and httpx with h2 — each making
several requests on one connection, bodies of 0 B, 1 MiB and streamed (chunked / DATA without a
length), checked byte for byte by SHA-256."""
import hashlib
import os
import re
import ssl
import subprocess
import tempfile

import httpx

from epsilon_suite import Server, Suite, make_tls, pattern_bytes

MIB = 1 << 20
suite = Suite("clients")
work = tempfile.mkdtemp(prefix="epsilon-clients.")
ca, cert, key = make_tls(work)
upload = os.urandom(MIB)
upload_path = os.path.join(work, "upload.bin")
with open(upload_path, "wb") as f:
    f.write(upload)
empty_path = os.path.join(work, "empty.bin")
open(empty_path, "wb").close()
sha = lambda b: hashlib.sha256(b).hexdigest()[:16]

# What each request must return: (label, method, path, upload source, expected body).
#   upload: None, "empty", "file" (with a length) or "stream" (no length: chunked / DATA).
REQUESTS = [
    ("GET /bytes/0", "GET", "/bytes/0", None, b""),
    ("GET /bytes/1MiB", "GET", f"/bytes/{MIB}", None, pattern_bytes(MIB)),
    ("GET /bytes/1MiB chunked", "GET", f"/bytes/{MIB}?chunked=1", None, pattern_bytes(MIB)),
    ("POST /echo 0 B", "POST", "/echo", "empty", b""),
    ("POST /echo 1 MiB", "POST", "/echo", "file", upload),
    ("PUT /echo 1 MiB streamed", "PUT", "/echo", "stream", upload),
]


def curl(label, mode, base, extra, requests=None):
    """One curl process, every request of REQUESTS on one connection (`--next`)."""
    requests = requests or REQUESTS
    args = ["curl", "-sS", "-v", "--max-time", "60", "--cacert", ca]
    outs = []
    for i, (name, method, path, up, _) in enumerate(requests):
        if i:
            args.append("--next")
        out = os.path.join(work, f"{label}-{i}.out")
        outs.append(out)
        args += [*extra, "--cacert", ca, "-o", out, "-w", "%{http_code} %{http_version} %{num_connects}\\n"]
        if up == "empty":
            args += ["-X", method, "--data-binary", f"@{empty_path}", "-H", "Content-Type: application/octet-stream"]
        elif up == "file":
            args += ["-X", method, "--data-binary", f"@{upload_path}", "-H", "Content-Type: application/octet-stream"]
        elif up == "stream":
            args += ["-T", "-", "-X", method]  # from stdin: no length (chunked / DATA to END_STREAM)
        args.append(base + path)
    with open(upload_path, "rb") as stdin:
        p = subprocess.run(args, stdin=stdin, capture_output=True, timeout=90)
    lines = p.stdout.decode().split("\n")
    verbose = p.stderr.decode("utf-8", "replace")
    suite.check(f"{label}: curl exit 0", p.returncode == 0, f"exit {p.returncode}: {verbose[-300:]}")
    want_version = "1.1" if mode == "http1" else "2"
    for i, (name, _, _, _, body) in enumerate(requests):
        fields = lines[i].split() if i < len(lines) else []
        got = open(outs[i], "rb").read() if os.path.exists(outs[i]) else b""
        suite.check(f"{label}: {name} → 200, HTTP/{want_version}, {len(body)} bytes, same hash",
                    fields[:2] == ["200", want_version] and got == body,
                    f"status/version {fields[:2]}, got {len(got)} bytes {sha(got)}, want {len(body)} {sha(body)}")
    connects = [f[2] for f in (l.split() for l in lines if l) if len(f) == 3]
    if len(requests) == 1:
        return verbose
    suite.check(f"{label}: one connection for {len(requests)} requests",
                connects[:1] == ["1"] and all(c == "0" for c in connects[1:]), f"num_connects per request {connects}")
    return verbose


def nghttp_streams(verbose, upgraded_path=None):
    """Maps stream id → (path, status, DATA bytes received, END_STREAM seen) from `nghttp -v`."""
    streams, current = {}, None
    for line in verbose.splitlines():
        m = re.search(r"send HEADERS frame <.*stream_id=(\d+)>", line)
        if m:
            current = int(m.group(1))
            streams.setdefault(current, {"path": None, "status": None, "data": 0, "end": False})
            continue
        m = re.search(r"recv (HEADERS|DATA) frame <length=(\d+), flags=0x([0-9a-f]+), stream_id=(\d+)>", line)
        if m:
            sid = int(m.group(4))
            s = streams.setdefault(sid, {"path": None, "status": None, "data": 0, "end": False})
            if m.group(1) == "DATA":
                s["data"] += int(m.group(2))
            if int(m.group(3), 16) & 1:
                s["end"] = True
            current = ("recv", sid)
            continue
        m = re.search(r"^\s*:path: (\S+)", line)
        if m and isinstance(current, int):
            streams[current]["path"] = m.group(1)
        m = re.search(r"recv \(stream_id=(\d+)\) :status: (\d+)", line)
        if m:
            s = streams.setdefault(int(m.group(1)), {"path": None, "status": None, "data": 0, "end": False})
            s["status"] = int(m.group(2))
    if upgraded_path and 1 in streams:
        streams[1]["path"] = upgraded_path  # -u: the first request went as the HTTP/1.1 upgrade
    return {sid: s for sid, s in streams.items() if s["path"]}


def nghttp(label, base, extra, posts=True):
    # Several GETs on one connection (nghttp uses one connection for all URIs of one host).
    gets = ["/bytes/0", f"/bytes/{MIB}", f"/bytes/{MIB}?chunked=1", "/hello"]
    p = subprocess.run(["nghttp", "-nv", "-t", "60", *extra, *(base + g for g in gets)],
                       capture_output=True, timeout=90)
    out = p.stdout.decode("utf-8", "replace")
    streams = nghttp_streams(out, gets[0] if "-u" in extra else None)
    suite.check(f"{label}: nghttp -nv {len(gets)} GETs exit 0", p.returncode == 0, f"exit {p.returncode}: {out[-300:]}")
    want = {"/bytes/0": 0, f"/bytes/{MIB}": MIB, f"/bytes/{MIB}?chunked=1": MIB, "/hello": 13}
    got = {s["path"]: (s["status"], s["data"], s["end"]) for s in streams.values()}
    suite.check(f"{label}: nghttp GETs on one connection → 200 with the right lengths",
                out.count("recv SETTINGS frame") >= 1 and all(got.get(p) == (200, n, True) for p, n in want.items()),
                f"got {got}")
    if not posts:  # with -u and -d, nghttp upgrades with an OPTIONS request: covered without -u
        return
    # POSTs with a body from a file (DATA frames; nghttp sends content-length).
    p = subprocess.run(["nghttp", "-nv", "-t", "60", *extra, "-d", upload_path, base + "/echo", base + "/echo?second=1", base + "/discard"],
                       capture_output=True, timeout=90)
    out = p.stdout.decode("utf-8", "replace")
    streams = list(nghttp_streams(out).values())
    suite.check(f"{label}: nghttp -nv -d 1 MiB to /echo ×2 and /discard on one connection",
                p.returncode == 0 and len(streams) == 3 and all(s["status"] == 200 and s["end"] for s in streams)
                and sorted(s["data"] for s in streams if s["path"].startswith("/echo")) == [MIB, MIB],
                f"exit {p.returncode}, streams {streams}")
    # Byte for byte: nghttp writes the bodies to stdout.
    p = subprocess.run(["nghttp", "-t", "60", *extra, base + f"/bytes/{MIB}?chunked=1"], capture_output=True, timeout=90)
    suite.check(f"{label}: nghttp body of /bytes/1MiB?chunked=1 byte for byte",
                p.returncode == 0 and p.stdout == pattern_bytes(MIB), f"exit {p.returncode}, {len(p.stdout)} bytes {sha(p.stdout)}")
    p = subprocess.run(["nghttp", "-t", "60", *extra, "-d", upload_path, base + "/echo"], capture_output=True, timeout=90)
    suite.check(f"{label}: nghttp echo of 1 MiB byte for byte",
                p.returncode == 0 and p.stdout == upload, f"exit {p.returncode}, {len(p.stdout)} bytes {sha(p.stdout)}")


def streamed():
    for i in range(0, MIB, 10000):
        yield upload[i:i + 10000]


def httpx_client(label, base, **kwargs):
    with httpx.Client(timeout=30, **kwargs) as client:
        stream_ids, versions = [], set()
        for name, method, path, up, body in REQUESTS:
            content = {None: None, "empty": b"", "file": upload, "stream": streamed()}[up]
            r = client.request(method, base + path, content=content)
            versions.add(r.http_version)
            stream_ids.append(r.extensions.get("stream_id"))
            suite.check(f"{label}: {name} → 200, {len(body)} bytes, same hash",
                        r.status_code == 200 and r.content == body,
                        f"status {r.status_code}, {len(r.content)} bytes {sha(r.content)}, want {sha(body)}")
        r = client.get(base + "/hello")
        stream_ids.append(r.extensions.get("stream_id"))
        suite.check(f"{label}: Date and Server: epsilon on every response",
                    r.headers.get("server") == "epsilon" and "date" in r.headers, dict(r.headers))
        suite.check(f"{label}: HTTP/2 on one connection (stream ids 1, 3, 5, …)",
                    versions == {"HTTP/2"} and stream_ids == list(range(1, 2 * len(stream_ids), 2)),
                    f"versions {versions}, stream ids {stream_ids}")


try:
    with Server("--h2c") as plain, Server("--cert", cert, "--key", key) as tls:
        base = f"http://127.0.0.1:{plain.port}"
        tls_base = f"https://127.0.0.1:{tls.port}"
        def guarded(label, step):
            try:
                step()
            except Exception as e:  # one client's failure must not hide the others' results
                suite.error(f"{label}: ran to the end", e)

        def curl_h2_tls():
            verbose = curl("curl --http2 TLS", "h2", tls_base, ["--http2"])
            suite.check("curl --http2 TLS: ALPN h2 reported", re.search(r"ALPN[:,] server accepted (to use )?h2", verbose) is not None,
                        [l for l in verbose.splitlines() if "ALPN" in l])

        def curl_prior_knowledge():
            # curl 7.88.1 (Debian 12) cannot reuse a prior-knowledge connection (curl issue 10634,
            # fixed in 8.0): one request per process here; nghttp and httpx cover reuse over h2c.
            for request in REQUESTS:
                curl("curl --http2-prior-knowledge", "h2", base, ["--http2-prior-knowledge"], [request])

        def curl_upgrade():
            verbose = curl("curl --http2 h2c upgrade", "h2", base, ["--http2"])
            suite.check("curl --http2 cleartext: 101 Switching Protocols to h2c",
                        re.search(r"< HTTP/1.1 101", verbose) is not None and "Upgrade: h2c" in verbose,
                        [l for l in verbose.splitlines() if "101" in l or "pgrade" in l][:4])

        guarded("curl --http1.1", lambda: curl("curl --http1.1", "http1", base, ["--http1.1"]))
        guarded("curl --http1.1 TLS", lambda: curl("curl --http1.1 TLS", "http1", tls_base, ["--http1.1"]))
        guarded("curl --http2 TLS", curl_h2_tls)
        guarded("curl --http2-prior-knowledge", curl_prior_knowledge)
        guarded("curl --http2 h2c upgrade", curl_upgrade)
        guarded("nghttp TLS", lambda: nghttp("nghttp TLS", tls_base, []))
        guarded("nghttp h2c", lambda: nghttp("nghttp h2c", base, []))
        guarded("nghttp h2c upgrade", lambda: nghttp("nghttp h2c upgrade", base, ["-u"], posts=False))
        guarded("httpx h2 TLS", lambda: httpx_client("httpx h2 TLS", tls_base, http2=True, verify=ssl.create_default_context(cafile=ca)))
        guarded("httpx h2c", lambda: httpx_client("httpx h2c", base, http1=False, http2=True))
        suite.check("servers still running", plain.alive() and tls.alive(), "a server exited")
except Exception as e:  # a server that did not start, a client that hung
    suite.error("suite setup", e)
suite.finish()
