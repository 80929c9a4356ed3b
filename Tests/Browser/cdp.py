"""Debian's `chromium`, headless, driven through the DevTools protocol over a pipe
(`--remote-debugging-pipe`: Chromium reads JSON commands on fd 3 and writes replies and events on
fd 4, each message ending with a NUL byte). Python 3 standard library only.

`Chromium.result_of(url, deadline)` opens the page in a fresh tab and polls, in real time, for the
JSON that the page's own script writes into `#result` once `data-done="1"` is set. Real time, not
`--virtual-time-budget`: a WebSocket exchange is not a fetch, so virtual time would not wait for it."""
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

CHROMIUM = os.environ.get("CHROMIUM", "chromium")

# The page's result once its script says it is complete; the page's HTTP status, so that an
# error page fails at once instead of at the deadline.
RESULT_EXPRESSION = """JSON.stringify((() => {
  const out = document.getElementById("result");
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    result: out && out.dataset.done === "1" ? out.textContent : null,
    status: nav ? nav.responseStatus : null,
    complete: document.readyState === "complete",
    url: location.href,
  };
})())"""


class ChromiumError(Exception):
    pass


def _above_9(fd):
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Chromium:
    """One headless Chromium process with a throw-away profile, killed by `timeout` after
    `limit` seconds whatever happens to this script."""

    def __init__(self, limit=120):
        self.profile = tempfile.mkdtemp(prefix="epsilon-chromium.")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Chromium's ends above 9, so that moving them to 3 and 4 clobbers nothing.
        to_chrome_r, from_chrome_w = (_above_9(fd) for fd in (to_chrome_r, from_chrome_w))
        args = [
            "timeout", "--kill-after=5", str(limit), CHROMIUM,
            "--headless=new", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors",
            "--disable-dev-shm-usage",  # containers often have a small /dev/shm
            "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--mute-audio", "--password-store=basic", "about:blank",
        ]
        # fd 3 and 4 in the child, whatever numbers the pipes have here.
        shell = 'exec 3<&"$EPSILON_CDP_IN" 4>&"$EPSILON_CDP_OUT"; eval "exec $EPSILON_CDP_IN<&- $EPSILON_CDP_OUT>&-"; exec "$@"'
        env = dict(os.environ, EPSILON_CDP_IN=str(to_chrome_r), EPSILON_CDP_OUT=str(from_chrome_w))
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(["bash", "-c", shell, "chromium", *args], env=env,
                                     pass_fds=(to_chrome_r, from_chrome_w), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._replies = {}
        self._events = []
        self._lock = threading.Condition()
        self._eof = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self._lock:
                    if "id" in message:
                        self._replies[message["id"]] = message
                    elif len(self._events) < 1000:
                        self._events.append(message)
                    self._lock.notify_all()
        with self._lock:
            self._eof = True
            self._lock.notify_all()

    def send(self, method, params=None, session=None, timeout=15.0):
        """Sends one command and waits (bounded) for its reply; returns its `result`."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        except OSError as error:
            raise ChromiumError(f"{method}: Chromium is gone ({error})") from error
        deadline = time.monotonic() + timeout
        with self._lock:
            while ident not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise ChromiumError(f"{method}: no reply" + (" (Chromium exited)" if self._eof else f" within {timeout}s"))
                self._lock.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise ChromiumError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def console(self):
        """Console messages, uncaught exceptions and log entries seen so far, as lines."""
        lines = []
        with self._lock:
            events = list(self._events)
        for event in events:
            params = event.get("params", {})
            if event.get("method") == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                lines.append(f"console.{params.get('type')}: {text}")
            elif event.get("method") == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                lines.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
            elif event.get("method") == "Log.entryAdded":
                entry = params.get("entry", {})
                lines.append(f"log.{entry.get('level')}: {entry.get('text')} {entry.get('url', '')}".rstrip())
        return lines

    def websocket_handshakes(self):
        """The page's WebSocket handshakes as (url, status): 101 for an HTTP/1.1 Upgrade,
        200 for an HTTP/2 extended CONNECT (RFC 8441), as DevTools reports them."""
        with self._lock:
            events = list(self._events)
        urls = {}
        handshakes = []
        for event in events:
            params = event.get("params", {})
            if event.get("method") == "Network.webSocketCreated":
                urls[params.get("requestId")] = params.get("url")
            elif event.get("method") == "Network.webSocketHandshakeResponseReceived":
                handshakes.append((urls.get(params.get("requestId")), params.get("response", {}).get("status")))
        return handshakes

    def result_of(self, url, timeout=90.0):
        """Opens `url` in a new tab and returns the parsed JSON of its `#result` once done;
        raises ChromiumError when the page does not finish within `timeout` seconds."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Runtime.enable", session=session)
        self.send("Log.enable", session=session)
        # WebSocket handshakes (see websocket_handshakes); frame payloads are not kept.
        self.send("Network.enable", {"maxTotalBufferSize": 1 << 20, "maxResourceBufferSize": 1 << 16}, session=session)
        navigated = self.send("Page.navigate", {"url": url}, session=session, timeout=30)
        if navigated.get("errorText"):
            raise ChromiumError(f"navigating to {url}: {navigated['errorText']}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.send("Runtime.evaluate", {"expression": RESULT_EXPRESSION, "returnByValue": True},
                                  session=session, timeout=10).get("result", {}).get("value")
            except ChromiumError:
                if self._eof:
                    raise
                value = None  # the page may be between documents
            state = json.loads(value) if value else {}
            if state.get("result"):
                return json.loads(state["result"])
            if state.get("url") == url and state.get("complete") and state.get("status") not in (None, 0, 200):
                raise ChromiumError(f"{url}: HTTP status {state['status']}, not the page")
            time.sleep(0.25)
        raise ChromiumError(f"{url}: no result within {timeout}s")

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except ChromiumError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()  # `timeout` passes it on to Chromium
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of this Chromium's own process group
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait(5)
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
