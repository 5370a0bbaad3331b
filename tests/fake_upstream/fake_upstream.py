#!/usr/bin/env python3
"""A local stand-in for the AniLiberty v1 API (and the legacy v3 WebSocket) for tests and demos.

Serves payloads shaped like ANILIBRIA-API.md's examples (tests/fixtures/upstream), lets a test
script what happens next, and misbehaves on demand. Loopback only.

  GET  /api/v1/anime/releases/latest?limit=N   releases, newest fresh_at first
  GET  /api/v1/anime/schedule/now              {"today": [...], "tomorrow": [], "yesterday": []}
  GET  /api/v1/anime/releases/{id}             one release with episodes[]
  GET  /api/v3/ws                              v3 WebSocket: greeting, subscribe ack, pushed frames
  POST /_control/episode   {"release_id", "ordinal", "id"?, "name"?}   a release gains an episode
  POST /_control/release   {...release fields...}                      a title appears or changes
  POST /_control/remove    {"id"}                                      a title disappears (404 from now on)
  POST /_control/bulk      {"first_id", "count", "episodes"?}          many titles at once (benchmarks)
  POST /_control/misbehave {"mode": "500"|"429"|"slow"|"malformed"|"truncated"|"drop_ws",
                            "count": N, "retry_after": S, "delay_ms": D}  the next N API calls misbehave
                           {"mode": "clear"}                           forget pending misbehaviour
  POST /_control/ws_send   {...frame...}                               push a frame to WebSocket clients
  GET  /_control/stats     {"requests": ..., "misbehaved": ..., "ws_clients": ...}

usage: fake_upstream.py [--port 0] [--port-file F]   (the chosen port is printed and written to F)
"""
import argparse, base64, copy, hashlib, json, os, socket, struct, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "upstream")

lock = threading.Lock()
state = {"releases": {}, "episodes": {}, "misbehave": [], "requests": 0, "misbehaved": 0, "ws": [], "subscribes": 0}


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def seed():
    with open(os.path.join(FIXTURES, "v1_release_latest_live.json"), encoding="utf-8") as f:
        r = json.load(f)
    state["releases"][r["id"]] = r
    state["episodes"][r["id"]] = [copy.deepcopy(r["latest_episode"])]


def add_episode(body):
    rid = int(body["release_id"])
    with lock:
        r = state["releases"][rid]
        ep = copy.deepcopy(r.get("latest_episode") or {})
        ep.update({"id": body.get("id") or str(uuid.uuid4()), "ordinal": body["ordinal"],
                   "name": body.get("name"), "updated_at": now_iso(), "sort_order": body["ordinal"]})
        for q in ("480", "720", "1080"):
            ep[f"hls_{q}"] = f"https://cache.example/videos/media/ts/{rid}/{body['ordinal']}/{q}/x.m3u8"
        r["latest_episode"] = ep
        r["fresh_at"] = r["updated_at"] = now_iso()
        state["episodes"].setdefault(rid, []).append(ep)
        return ep


def upsert_release(body):
    rid = int(body["id"])
    with lock:
        base = state["releases"].get(rid) or copy.deepcopy(next(iter(state["releases"].values())))
        base = copy.deepcopy(base)
        base.update(body)
        base["id"] = rid
        base.setdefault("fresh_at", now_iso())
        if "fresh_at" not in body:
            base["fresh_at"] = base["updated_at"] = now_iso()
        state["releases"][rid] = base
        return base


def remove_release(body):
    rid = int(body["id"])
    with lock:
        gone = state["releases"].pop(rid, None) is not None
        state["episodes"].pop(rid, None)
    return {"removed": gone}


def bulk_releases(body):
    first, count, n_eps = int(body["first_id"]), int(body["count"]), int(body.get("episodes", 1))
    with lock:
        template = next(iter(state["releases"].values()))
        for rid in range(first, first + count):
            r = copy.deepcopy(template)
            r["id"], r["alias"] = rid, f"title-{rid}"
            r["name"] = dict(r.get("name") or {}, main=f"Тайтл {rid}")
            eps = []
            for k in range(1, n_eps + 1):
                ep = copy.deepcopy(template.get("latest_episode") or {})
                ep.update({"id": f"{rid}-ep-{k}", "ordinal": k, "sort_order": k, "release_id": rid})
                eps.append(ep)
            r["latest_episode"] = eps[-1] if eps else None
            state["releases"][rid] = r
            state["episodes"][rid] = eps
    return {"created": count}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the second waits for the client's
    # delayed ACK, ~40 ms per response (and per WebSocket frame on an upgraded connection).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, obj, extra=None):
        body = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def next_misbehaviour(self):
        with lock:
            state["requests"] += 1
            if state["misbehave"]:
                m = state["misbehave"][0]
                m["count"] -= 1
                if m["count"] <= 0:
                    state["misbehave"].pop(0)
                state["misbehaved"] += 1
                return m
        return None

    def api_payload(self, path, query):
        with lock:
            if path == "/api/v1/anime/releases/latest":
                limit = int(query.get("limit", ["50"])[0])
                items = sorted(state["releases"].values(), key=lambda r: r.get("fresh_at") or "", reverse=True)
                return 200, [copy.deepcopy(r) for r in items[:limit]]
            if path == "/api/v1/anime/schedule/now":
                today = []
                for r in state["releases"].values():
                    le = r.get("latest_episode")
                    rel = {k: v for k, v in r.items() if k != "latest_episode"}
                    today.append({"release": rel, "full_season_is_released": False,
                                  "published_release_episode": le,
                                  "next_release_episode_number": (int(le["ordinal"]) + 1) if le else None})
                return 200, {"today": today, "tomorrow": [], "yesterday": []}
            if path.startswith("/api/v1/anime/releases/"):
                key = path.rsplit("/", 1)[1]
                for r in state["releases"].values():
                    if str(r["id"]) == key or r.get("alias") == key:
                        full = {k: v for k, v in r.items() if k != "latest_episode"}
                        full["episodes"] = copy.deepcopy(state["episodes"].get(r["id"], []))
                        return 200, full
                return 404, {"error": {"code": 404, "message": "Release not found"}}
        return 404, {"error": {"code": 404, "message": "Not found"}}

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/_control/stats":
            with lock:
                return self.send_json(200, {"requests": state["requests"], "misbehaved": state["misbehaved"],
                                            "ws_clients": len(state["ws"]), "subscribes": state["subscribes"]})
        if url.path in ("/api/v3/ws", "/api/v3/ws/", "/v3/ws/"):
            return self.websocket()
        m = self.next_misbehaviour()
        code, payload = self.api_payload(url.path, parse_qs(url.query))
        if m:
            mode = m["mode"]
            if mode == "500":
                return self.send_json(500, {"error": {"code": 500, "message": "Internal Server Error"}})
            if mode == "429":
                return self.send_json(429, {"error": {"code": 429, "message": "Too Many Requests"}},
                                      {"Retry-After": str(m.get("retry_after", 1))})
            if mode == "slow":
                time.sleep(m.get("delay_ms", 3000) / 1000.0)
            if mode == "malformed":
                body = b'{"data": [ {"id": 1, "alias": "broken", "name": {"main": "x"}, ]'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if mode == "truncated":
                body = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
        self.send_json(code, payload)

    def do_POST(self):
        url = urlparse(self.path)
        body = self.read_body()
        if url.path == "/_control/episode":
            return self.send_json(200, add_episode(body))
        if url.path == "/_control/release":
            return self.send_json(200, upsert_release(body))
        if url.path == "/_control/remove":
            return self.send_json(200, remove_release(body))
        if url.path == "/_control/bulk":
            return self.send_json(200, bulk_releases(body))
        if url.path == "/_control/misbehave" and body.get("mode") == "clear":
            with lock:
                state["misbehave"].clear()
            return self.send_json(200, {"ok": True})
        if url.path == "/_control/misbehave":
            with lock:
                state["misbehave"].append({"mode": str(body["mode"]), "count": int(body.get("count", 1)),
                                           "retry_after": body.get("retry_after", 1), "delay_ms": body.get("delay_ms", 3000)})
            if body["mode"] == "drop_ws":
                drop_ws_clients()
            return self.send_json(200, {"ok": True})
        if url.path == "/_control/ws_send":
            n = ws_broadcast(json.dumps(body, ensure_ascii=False))
            return self.send_json(200, {"sent": n})
        self.send_json(404, {"error": "not found"})

    # --- v3 WebSocket (RFC 6455, text frames, server side) ---
    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key")
        if not key:
            return self.send_json(400, {"error": "not a WebSocket upgrade"})
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        sock = self.connection
        client = {"sock": sock, "lock": threading.Lock()}
        ws_send(client, json.dumps({"connection": "success", "api_version": "3.0.14"}))
        with lock:
            state["ws"].append(client)
        subscriptions = 0
        try:
            while True:
                frame = ws_read(sock)
                if frame is None:
                    break
                opcode, payload = frame
                if opcode == 8:
                    break
                if opcode == 9:
                    ws_send(client, payload, opcode=10)
                    continue
                if opcode == 1:
                    try:
                        msg = json.loads(payload)
                    except ValueError:
                        continue
                    if isinstance(msg, dict) and "subscribe" in msg:
                        with lock:
                            state["subscribes"] += 1
                        ws_send(client, json.dumps({"subscribe": "success", "subscription_id": subscriptions}))
                        subscriptions += 1
        except OSError:
            pass
        finally:
            with lock:
                if client in state["ws"]:
                    state["ws"].remove(client)
        self.close_connection = True


def ws_read(sock):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf
    head = exact(2)
    if head is None:
        return None
    opcode = head[0] & 0x0F
    masked, length = head[1] & 0x80, head[1] & 0x7F
    if length == 126:
        length = struct.unpack(">H", exact(2))[0]
    elif length == 127:
        length = struct.unpack(">Q", exact(8))[0]
    mask = exact(4) if masked else b"\0\0\0\0"
    data = bytearray(exact(length) or b"")
    for i in range(len(data)):
        data[i] ^= mask[i % 4]
    return opcode, data.decode("utf-8", "replace") if opcode in (1, 8) else bytes(data)


def ws_send(client, text, opcode=1):
    data = text.encode() if isinstance(text, str) else text
    n = len(data)
    head = bytes([0x80 | opcode]) + (bytes([n]) if n < 126 else bytes([126]) + struct.pack(">H", n) if n < 65536
                                     else bytes([127]) + struct.pack(">Q", n))
    with client["lock"]:
        client["sock"].sendall(head + data)


def ws_broadcast(text):
    with lock:
        clients = list(state["ws"])
    sent = 0
    for c in clients:
        try:
            ws_send(c, text)
            sent += 1
        except OSError:
            pass
    return sent


def drop_ws_clients():
    with lock:
        clients = list(state["ws"])
        state["ws"].clear()
    for c in clients:
        try:
            c["sock"].shutdown(socket.SHUT_RDWR)
            c["sock"].close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    args = ap.parse_args()
    seed()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print(port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
