#!/usr/bin/env python3
"""A small HTTP/1.1 fault-injecting proxy for S3 tests (stdlib only, one thread per connection).

    faultproxy.py --upstream http://127.0.0.1:PORT --port-file FILE [--port 0] [--schedule RULES]
                  [--max-faults N] [--lifetime SECONDS] [--log FILE]

Listens on 127.0.0.1 (port 0 = any free port, written to --port-file once listening) and forwards every request to
--upstream, except those the schedule picks. Point a client at it with AWS_ENDPOINT_URL=http://127.0.0.1:<port>.
Only 127.0.0.1 is ever contacted.

RULES is a comma-separated list of KIND:EVERY[:OFFSET[:ARG]]. Requests are numbered from 1 in arrival order
(counting only those whose method is in --methods, default all); rule KIND:EVERY:OFFSET applies to request n when
n % EVERY == OFFSET % EVERY (OFFSET defaults to 0, so `503:3` hits requests 3, 6, 9 …; `500:1` hits every
request). The first matching rule wins. A retry is a new request, so `KIND:3` makes a request fail at most once
in a row. Kinds:

    500, 503          that status with an S3 XML error body (InternalError, ServiceUnavailable)
    429               429 with code SlowDown;   slowdown = 503 SlowDown (what S3 really sends)
    403               403 AccessDenied (the request is not forwarded)
    drop              forward, then send the status line, headers and half the body, and close the connection
    close             close the connection before answering (the request is not forwarded)
    stall             sleep ARG seconds (default 5), then forward normally

--max-faults bounds the number of injected faults (then every request is forwarded); --lifetime bounds the
proxy's life: it exits by itself after that many seconds (default 120). Each request is logged to --log (method,
path, the names of its query parameters but not their values, action, and for a forwarded request the status and
the size of the body sent back); no header is logged. So `GET /b/k?attributes,versionId -> 200 311 bytes` is a
GetObjectAttributes, and a GET of an object's data has no `attributes` (or listing) parameter.
"""
import argparse
import http.client
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
              "expect"}
ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "ServiceUnavailable", "Please reduce your request rate."),
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "429": (429, "SlowDown", "Please reduce your request rate."),
    "403": (403, "AccessDenied", "Access Denied"),
}
KINDS = set(ERRORS) | {"drop", "close", "stall"}


def parse_rules(text):
    rules = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        fields = part.split(":")
        kind = fields[0].lower()
        if kind not in KINDS or len(fields) < 2:
            sys.exit(f"faultproxy: bad rule '{part}' (KIND:EVERY[:OFFSET[:ARG]], KIND one of {sorted(KINDS)})")
        every = int(fields[1])
        offset = int(fields[2]) if len(fields) > 2 and fields[2] else 0
        arg = float(fields[3]) if len(fields) > 3 else 5.0
        if every < 1:
            sys.exit(f"faultproxy: bad rule '{part}': EVERY must be at least 1")
        rules.append((kind, every, offset % every, arg))
    return rules


class State:
    def __init__(self, rules, max_faults, methods, log):
        self.rules, self.max_faults, self.methods, self.log = rules, max_faults, methods, log
        self.lock = threading.Lock()
        self.count = 0
        self.faults = 0

    def decide(self, method):
        with self.lock:
            if self.methods and method not in self.methods:
                return 0, None
            self.count += 1
            n = self.count
            if self.faults >= self.max_faults:
                return n, None
            for rule in self.rules:
                if n % rule[1] == rule[2]:
                    self.faults += 1
                    return n, rule
            return n, None

    def note(self, text):
        if self.log:
            with self.lock:
                self.log.write(text + "\n")
                self.log.flush()


def make_handler(state, upstream):
    up = urllib.parse.urlsplit(upstream)
    up_host, up_port = up.hostname, up.port or 80
    if up_host not in ("127.0.0.1", "localhost"):
        sys.exit("faultproxy: the upstream must be on 127.0.0.1")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: the access log goes to --log
            pass

        def read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline().strip():
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def forward(self, body):
            conn = http.client.HTTPConnection(up_host, up_port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            # A HEAD's Content-Length is the object's size, not that of the (empty) body: pass it through.
            out_headers = [(k, v) for k, v in resp.getheaders()
                           if k.lower() not in HOP_BY_HOP and (k.lower() != "content-length" or self.command == "HEAD")]
            conn.close()
            return resp.status, resp.reason, out_headers, data

        def send_all(self, status, reason, headers, data, truncate=False):
            self.send_response_only(status, reason)
            for k, v in headers:
                if not (truncate and k.lower() == "content-length"):
                    self.send_header(k, v)
            if truncate:
                self.send_header("Content-Length", str(len(data) + 64))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def handle_one(self):
            n, rule = state.decide(self.command)
            path, _, query = self.path.partition("?")
            names = [name for name, _ in urllib.parse.parse_qsl(query, keep_blank_values=True)]
            if names:
                path += "?" + ",".join(names)
            kind = rule[0] if rule else "forward"
            if kind == "close":
                state.note(f"{n} {self.command} {path} close")
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            body = self.read_body()
            if kind in ERRORS:
                status, code, message = ERRORS[kind]
                xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}'
                       f'</Message><RequestId>faultproxy-{n}</RequestId></Error>').encode()
                state.note(f"{n} {self.command} {path} {status} {code}")
                self.send_all(status, None, [("Content-Type", "application/xml")], xml)
                return
            if kind == "stall":
                state.note(f"{n} {self.command} {path} stall {rule[3]}s")
                time.sleep(rule[3])
            try:
                status, reason, headers, data = self.forward(body)
            except OSError as exc:
                state.note(f"{n} {self.command} {path} upstream error {exc}")
                self.send_all(502, "Bad Gateway", [], b"")
                return
            if kind == "drop":
                state.note(f"{n} {self.command} {path} drop after {status}")
                self.send_all(status, reason, headers, data, truncate=True)
                return
            if kind != "stall":
                state.note(f"{n} {self.command} {path} -> {status} {len(data)} bytes")
            self.send_all(status, reason, headers, data)

        def do_GET(self): self.handle_one()
        def do_HEAD(self): self.handle_one()
        def do_PUT(self): self.handle_one()
        def do_POST(self): self.handle_one()
        def do_DELETE(self): self.handle_one()

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", default=os.environ.get("FAULTPROXY_UPSTREAM"), required=False)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--schedule", default=os.environ.get("FAULTPROXY_SCHEDULE", ""))
    p.add_argument("--methods", default="", help="comma-separated methods that count (default all)")
    p.add_argument("--max-faults", type=int, default=int(os.environ.get("FAULTPROXY_MAX_FAULTS", "1000")))
    p.add_argument("--lifetime", type=float, default=float(os.environ.get("FAULTPROXY_LIFETIME", "120")))
    p.add_argument("--log")
    a = p.parse_args()
    if not a.upstream:
        p.error("--upstream (or FAULTPROXY_UPSTREAM) is required")
    log = open(a.log, "a") if a.log else None
    methods = {m.strip().upper() for m in a.methods.split(",") if m.strip()}
    state = State(parse_rules(a.schedule), a.max_faults, methods, log)
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(state, a.upstream))
    timer = threading.Timer(a.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(tmp, a.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
