#!/usr/bin/env python3
"""A local stand-in for the site's Node.js webhook endpoint (POST /internal/anilibria/notify).

Verifies each call's signature the way a receiver should (HMAC-SHA256 over "timestamp.body" with
the shared secret, compared in constant time, timestamp within 5 minutes), answers --status (200
by default; 401 for a bad signature) and appends one JSON line per call to --log:
{"verified": bool, "event_id": ..., "idempotency_key": ..., "body": {...}}.
HTTP/1.1 keep-alive, one thread per connection. Stop it to play a webhook sink that is down.
"""
import argparse
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--secret", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    lock = threading.Lock()
    log = open(args.log, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle on, the second waits for the client's
        # delayed ACK (~40 ms per call).
        disable_nagle_algorithm = True

        def log_message(self, *a):
            if not args.quiet:
                super().log_message(*a)

        def answer(self, status, obj):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ts = self.headers.get("X-Anipipe-Timestamp", "")
            sig = self.headers.get("X-Anipipe-Signature", "")
            expected = "sha256=" + hmac.new(args.secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
            fresh = ts.isdigit() and abs(time.time() - int(ts)) < 300
            verified = fresh and hmac.compare_digest(expected, sig)
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            entry = {"verified": verified, "event_id": (parsed or {}).get("event_id"),
                     "idempotency_key": self.headers.get("Idempotency-Key"), "body": parsed}
            with lock:
                log.write(json.dumps(entry, ensure_ascii=False) + "\n")
            if not verified:
                return self.answer(401, {"error": "bad signature"})
            self.answer(args.status, {"ok": args.status < 300})

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        import os
        os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
