#!/usr/bin/env python3
"""A strict TLS HTTP/1.1 server for EpsilonHTTPClient's tests (stdlib only, loopback only).

    python3 Tests/Client/tls_server.py --cert leaf.pem --key leaf.key [--client-ca ca.pem] [--tls13-only]

Prints "listening on 127.0.0.1:PORT". With --client-ca the handshake REQUIRES a client
certificate signed by that CA (Python's CERT_REQUIRED: no certificate, no connection, unlike
nginx, which answers 400). --tls13-only refuses TLS 1.2. Each request gets
`200` with the client certificate's subject CN (or "-") as the body, keep-alive.
"""
import socket
import socketserver
import ssl

from loopback_server import argument_parser, serve

CONTEXT = None


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(20)
        tls = CONTEXT.wrap_socket(self.request, server_side=True, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError):
            # The alert is out: let the client read it. Closing over its unread request would
            # send an RST, which can discard the alert before the client reads it.
            try:
                socket.socket.shutdown(tls, socket.SHUT_WR)
                while socket.socket.recv(tls, 65536):
                    pass
            except OSError:
                pass
            tls.close()
            return
        try:
            peer = tls.getpeercert()
            cn = "-"
            if peer:
                for rdn in peer.get("subject", ()):
                    for key, value in rdn:
                        if key == "commonName":
                            cn = value
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = tls.recv(65536)
                    if not data:
                        return
                    buffer += data
                    if len(buffer) > 65536:
                        return
                _, _, buffer = buffer.partition(b"\r\n\r\n")
                body = cn.encode()
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        except (ssl.SSLError, OSError):
            return
        finally:
            tls.close()


def main():
    global CONTEXT
    parser = argument_parser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--client-ca")
    parser.add_argument("--tls13-only", action="store_true")
    args = parser.parse_args()
    CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    CONTEXT.load_cert_chain(args.cert, args.key)
    CONTEXT.minimum_version = ssl.TLSVersion.TLSv1_3 if args.tls13_only else ssl.TLSVersion.TLSv1_2
    if args.client_ca:
        CONTEXT.verify_mode = ssl.CERT_REQUIRED
        CONTEXT.load_verify_locations(args.client_ca)
    serve(Handler, args.port)


if __name__ == "__main__":
    main()
