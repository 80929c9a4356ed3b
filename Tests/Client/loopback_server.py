"""The server loop the Python peers of EpsilonHTTPClient's tests share (stdlib only): a
thread per connection on 127.0.0.1, announced on standard output for the test that started it."""
import argparse
import socketserver


class LoopbackServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver listens with a backlog of 5: when the suites' tests connect at once, the
    # kernel drops the extra SYNs and the client resends them 1 s and 3 s later, which eats
    # a whole-request timeout before the first byte.
    request_queue_size = 128


def argument_parser():
    """A command-line parser with the option every peer takes: --port (default 0, a free one)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    return parser


def serve(handler, port=0):
    """Serves `handler` (a socketserver.BaseRequestHandler) on 127.0.0.1:`port` (0: a free
    one), prints "listening on 127.0.0.1:PORT", then serves until the process is stopped."""
    with LoopbackServer(("127.0.0.1", port), handler) as server:
        print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
        server.serve_forever()
