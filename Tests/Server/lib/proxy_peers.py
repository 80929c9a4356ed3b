"""nginx and HAProxy as reverse proxies in front of the server under test, for the suites that
check Epsilon behind them (proxies, websocket): each started from a config written into the
suite's temp folder, listening on a free loopback port, and waited for until it accepts."""
import os
import socket
import subprocess
import time

from epsilon_suite import free_port


def wait_port(port, proc, timeout=10):
    """Waits until something accepts on 127.0.0.1:`port`; raises if `proc` exits first or
    nothing listens within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"proxy exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port} after {timeout} s")


def _start(argv, ports, stderr):
    """Starts a proxy and waits for each of its ports; stops it again if one never opens."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        for port in ports:
            wait_port(port, proc)
    except Exception:
        proc.terminate()
        proc.wait(10)
        raise
    return proc


def start_nginx(work, http, location):
    """nginx on a free port, one server whose `location /` holds `location` (directives); `http`
    adds directives to the http block (an upstream, a map). Returns (process, port)."""
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    {http}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            {location}
        }}
    }}
}}
""")
    return _start(["nginx", "-p", work, "-c", conf], [port], subprocess.DEVNULL), port


def start_haproxy(work, sections, ports, defaults=""):
    """HAProxy in HTTP mode with `sections` (frontends binding `ports`, backends) after the
    shared global and defaults sections (`defaults` adds lines to the latter); its messages go
    to haproxy.log in `work`. Returns the process once every port accepts."""
    conf = os.path.join(work, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(f"""
global
    maxconn 1000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
{defaults}
{sections}
""")
    with open(os.path.join(work, "haproxy.log"), "w") as log:
        return _start(["haproxy", "-db", "-f", conf], ports, log)
