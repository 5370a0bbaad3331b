#!/usr/bin/env python3
"""A local stand-in for the AniLiberty v1 API (and the legacy v3 WebSocket) for tests and demos.

Serves payloads shaped like the upstream's real ones (docs/upstream.md; tests/fixtures/upstream),
lets a test script what happens next, and misbehaves on demand. Loopback only.

API (counted in /_control/stats, subject to /_control/misbehave):
  GET  /api/v1/anime/releases/latest?limit=N   releases, newest fresh_at first (with latest_episode)
  GET  /api/v1/anime/schedule/now              {"today": [...], "tomorrow": [], "yesterday": []}
  GET  /api/v1/anime/releases/{id|alias}       one release with episodes[] (no latest_episode)
  GET|POST /api/v1/anime/catalog/releases?page=P&limit=L&f[sorting]=S
        P >= 1 (default 1), 1 <= L <= 50 (default 50), S one of FRESH_AT_DESC (default), FRESH_AT_ASC,
        RATING_DESC, RATING_ASC (added_in_users_favorites), YEAR_DESC, YEAR_ASC; ties broken by id.
        POST also takes {"page", "limit", "f": {"sorting"}} as a JSON body; the query string wins.
        -> {"data": [release without latest_episode/episodes...],
            "meta": {"pagination": {"total", "count", "per_page", "current_page", "total_pages",
                                    "links": {"next": url|null, "previous": url|null}}}}
        bad page/limit/sorting -> 422 {"message": "...", "errors": {"limit": ["..."], ...}}
  GET  /api/v3/ws                              v3 WebSocket: greeting, subscribe ack, pushed frames (not counted)

Control (not counted):
  POST /_control/episode   {"release_id", "ordinal", "id"?, "name"?, "keep_fresh_at"?}   -> the episode
        a release gains an episode; an ordinal it already has is re-uploaded (replaced: new id unless
        given, new updated_at and hls links). latest_episode is always the highest ordinal. The
        release's fresh_at and updated_at are bumped, only updated_at with "keep_fresh_at": true.
  POST /_control/episodes  {"release_id", "ordinals": [..], "ids"?: [..], "keep_fresh_at"?}  -> [episode...]
        a batch upload of one release, same rules, atomically, timestamps bumped once
  POST /_control/bulk_episode {"release_ids": [..]} | {"first_id", "count"}, "keep_fresh_at"?
        each existing release gains its next episode (floor(highest ordinal) + 1, or 1), atomically
        -> {"<release_id>": ordinal, ...} (missing releases skipped)
  POST /_control/release   {...release fields..., "keep_fresh_at"?}   a title appears or changes (upsert);
        fresh_at = updated_at = now unless the body gives fresh_at, or keep_fresh_at keeps both
        (for an existing release) -> the release
  POST /_control/remove    {"id"}                                      a title disappears (404 from now on)
  POST /_control/bulk      {"first_id", "count", "episodes"?, "fresh_at"?}   many titles at once (benchmarks);
        with fresh_at, every created release gets fresh_at = updated_at = it -> {"created": count}
  POST /_control/misbehave {"mode": "500"|"429"|"slow"|"malformed"|"truncated"|"drop_ws",
                            "count": N, "retry_after": S, "delay_ms": D, "path_prefix"?: P}
        the next N API calls misbehave (only calls whose path starts with P, if given); each call
        takes the first pending entry that applies to it
                           {"mode": "clear"}                           forget pending misbehaviour
  POST /_control/ws_send   {...frame...}                               push a frame to WebSocket clients -> {"sent": n}
  GET  /_control/stats     {"requests": ..., "misbehaved": ..., "ws_clients": ..., "subscribes": ...,
                            "by_endpoint": {"latest", "schedule", "catalog", "release", "other"}}
  GET  /_control/state     {"releases": {"<id>": {"fresh_at", "updated_at", "alias", "ordinals": [sorted],
                                                  "episode_ids": {"<ordinal>": "<episode id>"}}}}

usage: fake_upstream.py [--port 0] [--port-file F]   (the chosen port is printed and written to F)
"""
import argparse, base64, copy, hashlib, json, math, os, socket, struct, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs, urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "upstream")

CATALOG = "/api/v1/anime/catalog/releases"
LATEST = "/api/v1/anime/releases/latest"
MAX_LIMIT = 50
SORTINGS = {  # name -> (key of a release, descending)
    "FRESH_AT_DESC": (lambda r: (r.get("fresh_at") or "", r["id"]), True),
    "FRESH_AT_ASC": (lambda r: (r.get("fresh_at") or "", r["id"]), False),
    "RATING_DESC": (lambda r: (r.get("added_in_users_favorites") or 0, r["id"]), True),
    "RATING_ASC": (lambda r: (r.get("added_in_users_favorites") or 0, r["id"]), False),
    "YEAR_DESC": (lambda r: (r.get("year") or 0, r["id"]), True),
    "YEAR_ASC": (lambda r: (r.get("year") or 0, r["id"]), False),
}
ENDPOINTS = ("latest", "schedule", "catalog", "release", "other")

lock = threading.Lock()
state = {"releases": {}, "episodes": {}, "misbehave": [], "requests": 0, "misbehaved": 0, "ws": [], "subscribes": 0,
         "by_endpoint": dict.fromkeys(ENDPOINTS, 0)}


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def seed():
    with open(os.path.join(FIXTURES, "v1_release_latest_live.json"), encoding="utf-8") as f:
        r = json.load(f)
    state["releases"][r["id"]] = r
    state["episodes"][r["id"]] = [copy.deepcopy(r["latest_episode"])]


def endpoint_family(path):
    p = path.rstrip("/")
    if p == LATEST:
        return "latest"
    if p.startswith("/api/v1/anime/schedule/"):
        return "schedule"
    if p == CATALOG:
        return "catalog"
    if p.startswith("/api/v1/anime/releases/"):
        return "release"
    return "other"


# --- episodes (callers hold `lock`) ---
def as_ordinal(v):
    if isinstance(v, str):
        return float(v) if "." in v else int(v)
    return v


def put_episode(rid, ordinal, ep_id=None, name=None):
    """Adds episode `ordinal` to release rid, or replaces (re-uploads) the one it already has."""
    ordinal = as_ordinal(ordinal)
    r = state["releases"][rid]
    eps = state["episodes"].setdefault(rid, [])
    ep = copy.deepcopy(r.get("latest_episode") or {})
    ep.update({"id": ep_id or str(uuid.uuid4()), "ordinal": ordinal, "name": name, "updated_at": now_iso(),
               "sort_order": ordinal, "release_id": rid})
    for q in ("480", "720", "1080"):
        ep[f"hls_{q}"] = f"https://cache.example/videos/media/ts/{rid}/{ordinal}/{q}/{uuid.uuid4().hex}.m3u8"
    eps[:] = [e for e in eps if e.get("ordinal") != ordinal] + [ep]
    eps.sort(key=lambda e: e.get("ordinal") or 0)
    return ep


def sync_latest(rid):
    eps = state["episodes"].get(rid) or []
    if eps:
        state["releases"][rid]["latest_episode"] = max(eps, key=lambda e: e.get("ordinal") or 0)


def touch_release(rid, keep_fresh_at=False):
    r = state["releases"][rid]
    r["updated_at"] = now_iso()
    if not keep_fresh_at:
        r["fresh_at"] = r["updated_at"]


def next_ordinal(rid):
    ordinals = [e["ordinal"] for e in state["episodes"].get(rid) or [] if e.get("ordinal") is not None]
    return int(math.floor(max(ordinals))) + 1 if ordinals else 1


def add_episode(body):
    rid = int(body["release_id"])
    with lock:
        if rid not in state["releases"]:
            return None
        ep = put_episode(rid, body["ordinal"], body.get("id"), body.get("name"))
        sync_latest(rid)
        touch_release(rid, bool(body.get("keep_fresh_at")))
        return copy.deepcopy(ep)


def add_episodes(body):
    rid, ids = int(body["release_id"]), list(body.get("ids") or [])
    with lock:
        if rid not in state["releases"]:
            return None
        added = [put_episode(rid, o, ids[i] if i < len(ids) else None) for i, o in enumerate(body["ordinals"])]
        sync_latest(rid)
        touch_release(rid, bool(body.get("keep_fresh_at")))
        return copy.deepcopy(added)


def bulk_episode(body):
    if "release_ids" in body:
        rids = [int(x) for x in body["release_ids"]]
    else:
        rids = list(range(int(body["first_id"]), int(body["first_id"]) + int(body["count"])))
    done = {}
    with lock:
        for rid in rids:
            if rid not in state["releases"]:
                continue
            done[rid] = put_episode(rid, next_ordinal(rid))["ordinal"]
            sync_latest(rid)
            touch_release(rid, bool(body.get("keep_fresh_at")))
    return done


def upsert_release(body):
    body = dict(body)
    keep = bool(body.pop("keep_fresh_at", False))
    rid = int(body["id"])
    with lock:
        existing = state["releases"].get(rid)
        base = copy.deepcopy(existing or next(iter(state["releases"].values()), {}))
        base.update(body)
        base["id"] = rid
        base.setdefault("fresh_at", now_iso())
        if "fresh_at" not in body and not (keep and existing):
            base["fresh_at"] = base["updated_at"] = now_iso()
        state["releases"][rid] = base
        return copy.deepcopy(base)


def remove_release(body):
    rid = int(body["id"])
    with lock:
        gone = state["releases"].pop(rid, None) is not None
        state["episodes"].pop(rid, None)
    return {"removed": gone}


def bulk_releases(body):
    first, count, n_eps = int(body["first_id"]), int(body["count"]), int(body.get("episodes", 1))
    fresh_at = body.get("fresh_at")
    with lock:
        template = next(iter(state["releases"].values()))
        for rid in range(first, first + count):
            r = copy.deepcopy(template)
            r["id"], r["alias"] = rid, f"title-{rid}"
            r["name"] = dict(r.get("name") or {}, main=f"Тайтл {rid}")
            if fresh_at is not None:
                r["fresh_at"] = r["updated_at"] = str(fresh_at)
            eps = []
            for k in range(1, n_eps + 1):
                ep = copy.deepcopy(template.get("latest_episode") or {})
                ep.update({"id": f"{rid}-ep-{k}", "ordinal": k, "sort_order": k, "release_id": rid})
                eps.append(ep)
            r["latest_episode"] = eps[-1] if eps else None
            state["releases"][rid] = r
            state["episodes"][rid] = eps
    return {"created": count}


def state_snapshot():
    with lock:
        out = {}
        for rid, r in state["releases"].items():
            eps = sorted(state["episodes"].get(rid) or [], key=lambda e: e.get("ordinal") or 0)
            out[str(rid)] = {"fresh_at": r.get("fresh_at"), "updated_at": r.get("updated_at"), "alias": r.get("alias"),
                             "ordinals": [e.get("ordinal") for e in eps],
                             "episode_ids": {str(e.get("ordinal")): e.get("id") for e in eps}}
        return {"releases": out}


# --- catalog ---
def as_int(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().lstrip("+-").isdigit():
        return int(v.strip())
    return None


def catalog_params(query, body):
    """(page, limit, sorting, errors) from the query string, else the JSON body, else defaults."""
    f = body.get("f") if isinstance(body.get("f"), dict) else {}
    raw = {"page": query.get("page", [body.get("page", 1)])[0],
           "limit": query.get("limit", [body.get("limit", MAX_LIMIT)])[0],
           "sorting": query.get("f[sorting]", [f.get("sorting", body.get("f[sorting]", "FRESH_AT_DESC"))])[0]}
    errors = {}
    page, limit = as_int(raw["page"]), as_int(raw["limit"])
    if page is None:
        errors["page"] = ["The page field must be an integer."]
    elif page < 1:
        errors["page"] = ["The page field must be at least 1."]
    if limit is None:
        errors["limit"] = ["The limit field must be an integer."]
    elif limit < 1:
        errors["limit"] = ["The limit field must be at least 1."]
    elif limit > MAX_LIMIT:
        errors["limit"] = [f"The limit field must not be greater than {MAX_LIMIT}."]
    if raw["sorting"] not in SORTINGS:
        errors["f.sorting"] = ["The selected f.sorting is invalid."]
    return page, limit, raw["sorting"], errors


def catalog_link(host, page, limit, sorting):
    return f"http://{host}{CATALOG}?" + urlencode({"page": page, "limit": limit, "f[sorting]": sorting})


def catalog_page(query, body, host):
    """Callers hold `lock`."""
    page, limit, sorting, errors = catalog_params(query, body)
    if errors:
        return 422, {"message": next(iter(errors.values()))[0], "errors": errors}
    key, desc = SORTINGS[sorting]
    items = sorted(state["releases"].values(), key=key, reverse=desc)
    chunk = items[(page - 1) * limit: page * limit]
    total_pages = max(1, math.ceil(len(items) / limit))
    data = [{k: v for k, v in r.items() if k not in ("latest_episode", "episodes")} for r in chunk]
    links = {"next": catalog_link(host, page + 1, limit, sorting) if page < total_pages else None,
             "previous": catalog_link(host, page - 1, limit, sorting) if page > 1 else None}
    return 200, {"data": data, "meta": {"pagination": {
        "total": len(items), "count": len(data), "per_page": limit, "current_page": page,
        "total_pages": total_pages, "links": links}}}


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

    def next_misbehaviour(self, path):
        """Counts an API call and takes the first pending misbehaviour that applies to its path."""
        with lock:
            state["requests"] += 1
            state["by_endpoint"][endpoint_family(path)] += 1
            for i, m in enumerate(state["misbehave"]):
                if m.get("path_prefix") and not path.startswith(m["path_prefix"]):
                    continue
                m["count"] -= 1
                if m["count"] <= 0:
                    state["misbehave"].pop(i)
                state["misbehaved"] += 1
                return m
        return None

    def api_payload(self, method, path, query, body):
        with lock:
            if path.rstrip("/") == CATALOG:
                return catalog_page(query, body, self.headers.get("Host") or "127.0.0.1")
            if method != "GET":
                return 405, {"message": "Method Not Allowed"}
            if path.rstrip("/") == LATEST:
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
                # By id first (a dict lookup: sweeps fetch every title of a large catalog), then by alias.
                r = state["releases"].get(int(key)) if key.isdigit() else None
                if r is None:
                    r = next((x for x in state["releases"].values() if x.get("alias") == key), None)
                if r is not None:
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
                                            "ws_clients": len(state["ws"]), "subscribes": state["subscribes"],
                                            "by_endpoint": dict(state["by_endpoint"])})
        if url.path == "/_control/state":
            return self.send_json(200, state_snapshot())
        if url.path.startswith("/_control/"):
            return self.send_json(404, {"error": "not found"})
        if url.path in ("/api/v3/ws", "/api/v3/ws/", "/v3/ws/"):
            return self.websocket()
        self.serve_api("GET", url, {})

    def serve_api(self, method, url, body):
        m = self.next_misbehaviour(url.path)
        code, payload = self.api_payload(method, url.path, parse_qs(url.query), body)
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

    def read_api_body(self):
        try:
            body = self.read_body()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def do_POST(self):
        url = urlparse(self.path)
        if url.path.startswith("/api/"):
            return self.serve_api("POST", url, self.read_api_body())
        body = self.read_body()
        if url.path in ("/_control/episode", "/_control/episodes"):
            eps = (add_episode if url.path == "/_control/episode" else add_episodes)(body)
            if eps is None:
                return self.send_json(404, {"error": "release not found"})
            return self.send_json(200, eps)
        if url.path == "/_control/bulk_episode":
            return self.send_json(200, bulk_episode(body))
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
                                           "retry_after": body.get("retry_after", 1), "delay_ms": body.get("delay_ms", 3000),
                                           "path_prefix": body.get("path_prefix")})
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
