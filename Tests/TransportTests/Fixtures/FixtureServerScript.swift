import Foundation

/// The Python source of `FixtureHTTPServer`, written to a temporary file when a test starts it.
enum FixtureServerScript {
    static let source = #"""
import hashlib, json, os, socket, ssl, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.environ.get("FIXTURE_ROOT", ".")

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve_bytes(self, data):
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            part = data[start:]
            self.send_body(206, part, [("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))])
        else:
            self.send_body(200, data)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path, _, query = self.path.partition("?")
        parts = path.strip("/").split("/")
        if parts[0] == "bytes":
            n = int(parts[1])
            self.serve_bytes(bytes(i % 251 for i in range(n)))
        elif parts[0] == "nolength":
            n = int(parts[1])
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(bytes(i % 251 for i in range(n)))
            self.close_connection = True
        elif parts[0] == "fast-then-slow":
            # /fast-then-slow/<fast bytes>/<slow bytes>/<bytes per second>: the pattern, the first
            # part at once, the rest in 1 KiB pieces at the given pace (a route that slows down).
            fast, slow, rate = int(parts[1]), int(parts[2]), int(parts[3])
            data = bytes(i % 251 for i in range(fast + slow))
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:fast])
            self.wfile.flush()
            for start in range(fast, fast + slow, 1024):
                time.sleep(1024 / rate)
                self.wfile.write(data[start:start + 1024])
                self.wfile.flush()
        elif parts[0] == "chunked-with-length":
            # /chunked-with-length/<n>: n bytes chunked (64 KiB chunks), with a Content-Length four
            # times too large beside it (RFC 9112 forbids both; chunked wins), connection kept.
            n = int(parts[1])
            data = bytes(i % 251 for i in range(n))
            self.send_response(200)
            self.send_header("Content-Length", str(4 * n))
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, n, 65536):
                piece = data[start:start + 65536]
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                self.wfile.flush()
                time.sleep(0.01)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        elif parts[0] == "files":
            with open(os.path.join(ROOT, os.path.basename(parts[1])), "rb") as f:
                self.serve_bytes(f.read())
        elif parts[0] == "status":
            code = int(parts[1])
            self.send_body(code, ("status %d body\n" % code).encode() * int(query or "1"))
        elif parts[0] == "echo":
            seen = {k.lower(): v for k, v in self.headers.items()}
            self.send_body(200, json.dumps(seen, sort_keys=True).encode(), [("Content-Type", "application/json")])
        elif parts[0] == "ratelimit":
            self.send_body(200, b"ok", [("RateLimit-Limit", "100;w=21600"), ("RateLimit-Remaining", "99;w=21600"),
                                        ("Docker-RateLimit-Source", "203.0.113.9"), ("X-RateLimit-Reset", "60"),
                                        ("X-Other", "not a rate limit")])
        elif parts[0] == "early-hints":
            self.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nX-Interim: yes\r\n\r\n")
            self.send_body(200, b"final", [("X-Final", "yes")])
        elif parts[0] == "redirect":
            self.send_body(302, b"moved", [("Location", "/bytes/10")])
        elif parts[0] == "endless":
            # /endless/<announce 0|1>: a body that does not end (256 MiB at most, so a client that
            # never stops still finishes), 206 from the Range start when asked for one. With
            # announce=1 the Content-Length says 256 MiB. How many body bytes went out before the
            # client went away is appended to endless-sent.
            total = 256 << 20
            rng = self.headers.get("Range")
            start = int(rng[6:-1]) if rng and rng.startswith("bytes=") and rng.endswith("-") else 0
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", "bytes %d-%d/*" % (start, start + total - 1))
            if parts[1] == "1":
                self.send_header("Content-Length", str(total))
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            chunk = bytes(i % 251 for i in range(1 << 20))
            sent = 0
            try:
                while sent < total:
                    self.wfile.write(chunk)
                    sent += len(chunk)
                self.wfile.flush()
            except OSError:
                pass
            with open(os.path.join(ROOT, "endless-sent"), "a") as log:
                log.write("%d\n" % sent)
        elif parts[0] == "long-header":
            # /long-header/<n>: a header line of n bytes, then a short body.
            self.send_response(200)
            self.send_header("X-Long", "a" * int(parts[1]))
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        elif parts[0] == "silent":
            # /silent: no answer at all (a route whose first byte is long in coming); records when
            # the request came and when the client went away (its end of the connection closed).
            with open(os.path.join(ROOT, "silent-started"), "a") as log:
                log.write(f"{time.time()}\n")
            self.connection.settimeout(60)
            try:
                while self.connection.recv(1024):
                    pass
            except OSError:
                pass
            with open(os.path.join(ROOT, "silent-closed"), "a") as log:
                log.write(f"{time.time()}\n")
            self.close_connection = True
        elif parts[0] == "slow":
            with open(os.path.join(ROOT, "slow-started"), "a") as log:
                log.write(f"{time.time()}\n")
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            try:
                # 15 minutes: however long a starved test process takes to cancel, the answer is
                # still running then, so the only way it ends early is the client leaving.
                for _ in range(4500):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                # The client went away: record when, seen from the server (tests compare it with
                # when they cancelled, free of their own scheduling delays).
                with open(os.path.join(ROOT, "slow-closed"), "a") as log:
                    log.write(f"{time.time()}\n")
        else:
            self.send_body(404, b"no such fixture\n")

class Server(ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address):
        pass

def main():
    cert = os.environ.get("FIXTURE_CERT")
    key = os.environ.get("FIXTURE_KEY")
    server = Server(("127.0.0.1", 0), Handler)
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()

main()
"""#
}
