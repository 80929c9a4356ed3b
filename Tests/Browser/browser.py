"""Headless Chromium against `epsilon serve` (issues 15 and 16). Starts two servers on
127.0.0.1 with --port 0: one with TLS (the test certificate in CERT/KEY, no DIR: the example
site the tool ships) and one in cleartext serving Examples/site as DIR. Chromium then loads:
  - check.html over HTTPS: every asset of the site loaded, over h2;
  - check.html over HTTP: every asset loaded, over HTTP/1.1;
  - ws.html over HTTP (ws://) and over HTTPS (wss://): text, binary and 4 MiB echoes, the chat
    broadcast between two sockets of the page, and between the page and an outside client (this
    script, with Python's `websockets`). Over HTTPS the page's WebSockets run over its h2
    connection (RFC 8441: DevTools reports the handshake as 200), over HTTP as Upgrades (101).
Each page's own script writes its verdict as JSON; this script reads it through DevTools.
Prints `browser: N passed, M failed`; exit status 1 on any failure.
With --reference, nginx and a Python WebSocket server stand in for epsilon (checks the pages)."""
import json
import os
import re
import secrets
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from cdp import Chromium, ChromiumError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EPSILON = os.environ.get("EPSILON", os.path.join(ROOT, ".build/release/epsilon"))
SITE = os.path.join(ROOT, "Examples/site")
CERT, KEY = os.environ["CERT"], os.environ["KEY"]
LISTENING = re.compile(r"listening on (\S+):(\d+)")
CHROMIUM_LIMIT = 120 # seconds for one Chromium process, page included
PAGE_TIMEOUT = 100   # seconds for one page to write its result

passed, failed = 0, 0
REFERENCE = "--reference" in sys.argv[1:]


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"  ok   {name}" + (f": {detail}" if detail else ""))
    else:
        failed += 1
        print(f"  FAIL {name}" + (f": {detail}" if detail else ""))


class EpsilonServer:
    """One `epsilon serve` on 127.0.0.1, port 0; its stdout is drained so it never blocks."""

    def __init__(self, *args, start_timeout=20.0):
        self.args = [EPSILON, "serve", *args, "--host", "127.0.0.1", "--port", "0"]
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self.stderr, stdin=subprocess.DEVNULL)
        self.lines = []
        first = threading.Event()

        def drain():
            for raw in self.proc.stdout:
                if len(self.lines) < 1000:
                    self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                first.set()
            first.set()
        threading.Thread(target=drain, daemon=True).start()
        match = LISTENING.search(self.lines[0]) if first.wait(start_timeout) and self.lines else None
        if not match:
            self.stop()
            raise RuntimeError(f"{' '.join(self.args)}: no listening line within {start_timeout}s "
                               f"(stdout {self.lines[:2]}, stderr {self.stderr_text()[-300:]!r})")
        self.port = int(match.group(2))

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=15.0):
        """SIGTERM (graceful drain), then SIGKILL if it does not exit in time; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


class ChatPeer:
    """An outside member of /ws/chat: when it sees "browser:NONCE" it answers "peer:NONCE"."""

    def __init__(self, url, nonce, limit=60.0):
        self.url, self.nonce, self.limit = url, nonce, limit
        self.connected = threading.Event()
        self.saw_browser = threading.Event()
        self.error = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        from websockets.sync.client import connect
        context = None
        if self.url.startswith("wss:"):
            context = ssl.create_default_context(cafile=CERT)
            context.check_hostname = False
        deadline = time.monotonic() + self.limit
        try:
            with connect(self.url, ssl=context, open_timeout=10, close_timeout=5) as ws:
                self.connected.set()
                while not self.done.is_set() and time.monotonic() < deadline:
                    try:
                        message = ws.recv(timeout=0.5)
                    except TimeoutError:
                        continue
                    if isinstance(message, str) and f"browser:{self.nonce}" in message:
                        self.saw_browser.set()
                        ws.send(f"peer:{self.nonce}")
        except Exception as error:  # reported as a failed check, with its text
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.connected.set()

    def stop(self):
        self.done.set()
        self.thread.join(10)


def load(url, handshakes=None):
    """The JSON result of one page in a fresh headless Chromium, or (None, reason, console).
    `handshakes`, a list, receives the page's WebSocket handshakes as (url, status)."""
    with Chromium(CHROMIUM_LIMIT) as chromium:
        try:
            return chromium.result_of(url, PAGE_TIMEOUT), None, chromium.console()
        except ChromiumError as error:
            return None, str(error), chromium.console()
        finally:
            if handshakes is not None:
                handshakes.extend(chromium.websocket_handshakes())


def show_console(lines):
    for line in lines[:20]:
        print(f"       | {line}")


def asset_check(label, base, protocol):
    result, error, console = load(f"{base}/check.html")
    if result is None:
        check(f"{label} check.html reports", False, error)
        show_console(console)
        return
    assets = result.get("assets", [])
    check(f"{label} every asset loaded", result.get("ok") is True and len(assets) >= 12,
          f"{len(assets)} entries" + ("; " + "; ".join(result.get("problems", [])) if result.get("problems") else ""))
    wrong = sorted({f"{a.get('where')} {a.get('path')}: {a.get('protocol')!r}" for a in assets if a.get("protocol") != protocol})
    check(f"{label} nextHopProtocol {protocol} for the page and every asset",
          result.get("protocol") == protocol and assets and not wrong,
          f"page {result.get('protocol')!r}" + (f"; other: {', '.join(wrong)}" if wrong else f", {len(assets)} assets"))
    if not result.get("ok"):
        show_console(console)


def websocket_check(label, base, scheme):
    nonce = secrets.token_hex(6)
    ws_base = re.sub(r"^http", "ws", base)
    peer = ChatPeer(f"{ws_base}/ws/chat", nonce)
    peer.connected.wait(15)
    check(f"{label} outside client joins /ws/chat", peer.error is None, peer.error or "connected")
    handshakes = []
    result, error, console = load(f"{base}/ws.html?peer={nonce}", handshakes)
    peer.stop()
    # wss:// from a page that came over h2 runs over that connection (RFC 8441 extended
    # CONNECT, answered 200); ws:// from an HTTP/1.1 page is an Upgrade (101).
    status, how = (200, "HTTP/2 extended CONNECT") if scheme == "wss:" and not REFERENCE else (101, "HTTP/1.1 Upgrade")
    check(f"{label} every WebSocket of the page is an {how} ({status})",
          len(handshakes) >= 2 and all(s == status for _, s in handshakes),
          ", ".join(f"{u} {s}" for u, s in handshakes) or "no handshake seen")
    if result is None:
        check(f"{label} ws.html reports", False, error)
        show_console(console)
        return
    check(f"{label} page uses {scheme}//", str(result.get("url", "")).startswith(scheme + "//"), result.get("url", ""))
    steps = {s.get("name"): s for s in result.get("steps", [])}
    for name in ("echo-open", "echo-text", "echo-binary", "echo-4mib", "echo-close", "chat-open", "chat-broadcast", "chat-peer"):
        s = steps.get(name)
        check(f"{label} {name}", bool(s and s.get("ok")), f"{s.get('detail')} ({s.get('ms')} ms)" if s else "step missing")
    check(f"{label} outside client saw the page's chat message", peer.saw_browser.is_set(),
          "yes" if peer.saw_browser.is_set() else (peer.error or "not within the page's run"))
    if not result.get("ok"):
        show_console(console)


def start(label, *args):
    """An EpsilonServer, or None after a failed check when it does not start."""
    try:
        server = EpsilonServer(*args)
    except RuntimeError as error:
        check(f"server ({label}) starts", False, str(error))
        return None
    print(f"epsilon ({label}): {server.lines[0]}")
    return server


def main():
    servers = {}
    if "--reference" in sys.argv[1:]:
        from reference import ReferenceSite
        site = ReferenceSite(SITE, CERT, KEY)
        print(f"reference: nginx on {site.http_port} (HTTP/1.1) and {site.https_port} (TLS, h2), /ws/ on Python websockets")
        servers["reference"] = site
        https = f"https://127.0.0.1:{site.https_port}"
        http = f"http://127.0.0.1:{site.http_port}"
    else:
        tls = start("TLS, no DIR", "--cert", CERT, "--key", KEY)
        plain = start("cleartext, DIR Examples/site", SITE)
        servers = {label: server for label, server in (("TLS, no DIR", tls), ("cleartext, DIR Examples/site", plain)) if server}
        https = tls and f"https://127.0.0.1:{tls.port}"
        http = plain and f"http://127.0.0.1:{plain.port}"

    # A check whose server did not start counts as failed (once, above), not as skipped.
    if https:
        asset_check("https", https, "h2")
    if http:
        asset_check("http", http, "http/1.1")
    if http:
        websocket_check("ws", http, "ws:")
    if https:
        websocket_check("wss", https, "wss:")

    for label, server in servers.items():
        alive = server.alive()
        status = server.stop()
        check(f"server ({label}) still up, then stops cleanly", alive and status == 0,
              f"alive {alive}, exit status {status}")
    print(f"browser: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
