"""The reference servers for `Tests/Browser/run --reference`: nginx serving Examples/site over
HTTP/1.1 and HTTPS (h2), with /ws/ proxied to a Python `websockets` echo and chat server. The
same pages must pass against them; a page that fails here is broken, not the server under test.
Not part of CI."""
import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from websockets.asyncio.server import broadcast, serve


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


class WebSocketPeer:
    """`/ws/echo` sends every message back; `/ws/chat` sends every message to every member."""

    def __init__(self):
        self.port = free_port()
        self.members = set()
        self.loop = asyncio.new_event_loop()
        self.stopping = None
        threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True).start()
        wait_port(self.port)

    async def _handle(self, ws):
        if ws.request.path == "/ws/echo":
            async for message in ws:
                await ws.send(message)
        elif ws.request.path == "/ws/chat":
            self.members.add(ws)
            try:
                async for message in ws:
                    broadcast(self.members, message)
            finally:
                self.members.discard(ws)
        else:
            await ws.close(1008, "no such endpoint")

    async def _main(self):
        self.stopping = asyncio.Event()
        async with serve(self._handle, "127.0.0.1", self.port, max_size=16 * 1024 * 1024):
            await self.stopping.wait()

    def stop(self):
        if self.stopping:
            self.loop.call_soon_threadsafe(self.stopping.set)


class ReferenceSite:
    """nginx on two ports (cleartext HTTP/1.1, TLS with h2) in front of WebSocketPeer."""

    def __init__(self, site, cert, key):
        self.peer = WebSocketPeer()
        self.work = tempfile.mkdtemp(prefix="epsilon-browser-nginx.")
        self.http_port, self.https_port = free_port(), free_port()
        with open(f"{self.work}/nginx.conf", "w") as conf:
            conf.write(f"""
worker_processes 1;
daemon off;
pid {self.work}/nginx.pid;
error_log {self.work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {self.work}/body;
    proxy_temp_path {self.work}/proxy;
    types {{ text/html html; text/css css; text/javascript js; image/svg+xml svg; image/png png; }}
    charset utf-8;
    charset_types text/css text/javascript;
    server {{
        listen 127.0.0.1:{self.http_port};
        listen 127.0.0.1:{self.https_port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {os.path.abspath(site)};
        index index.html;
        location /ws/ {{
            proxy_pass http://127.0.0.1:{self.peer.port};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 300s;
        }}
    }}
}}
""")
        self.proc = subprocess.Popen(["/usr/sbin/nginx", "-p", self.work, "-c", f"{self.work}/nginx.conf"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.http_port)
        wait_port(self.https_port)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.peer.stop()
        shutil.rmtree(self.work, ignore_errors=True)
        return 0
