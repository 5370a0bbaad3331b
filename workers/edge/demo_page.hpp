#pragma once
// GET /demo: a small page that shows the live channel working in a browser (the browser test
// opens it headless): it connects to the WebSocket, subscribes to ?title=<id>, and lists every
// new episode pushed for it. Dropped, it reconnects with `since` (the last position it saw), so
// what was published meanwhile is replayed once, in order (docs/websocket.md).
namespace anipipe::edge {

inline constexpr const char* kDemoPage = R"HTML(<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>anipipe live</title>
<style>body{font:16px system-ui,sans-serif;margin:2em;background:#111;color:#eee}
#status{color:#9c9}li{margin:.4em 0;padding:.4em;background:#222;border-left:4px solid #e63}</style></head>
<body><h1>anipipe · новые серии</h1><p id="status">connecting…</p><ul id="episodes"></ul>
<script>
const params = new URLSearchParams(location.search);
const title = Number(params.get("title") || "0");
const status = document.getElementById("status");
const list = document.getElementById("episodes");
const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/anilibria/v2/ws";
// The position of the last push (or of the subscription): a reconnect asks for what came after it.
let since = null;
// Set by the browser test to keep the page from reconnecting while it publishes.
window.anipipeHold = false;
function connect() {
  if (window.anipipeHold) return setTimeout(connect, 100);
  const ws = new WebSocket(url);
  window.anipipeSocket = ws;
  ws.onopen = () => ws.send(JSON.stringify(since ? {type: "subscribe_title", title_id: title, since} : {type: "subscribe_title", title_id: title}));
  ws.onclose = () => {
    status.textContent = "disconnected; reconnecting";
    document.body.dataset.subscribed = "0";
    setTimeout(connect, 500);
  };
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.position && msg.type !== "recovered" && msg.type !== "recovery_gap" && !(msg.type === "subscribed" && since)) since = msg.position;
    if (msg.type === "subscribed") { status.textContent = "subscribed to title " + msg.title_id; document.body.dataset.subscribed = "1"; }
    if (msg.type === "recovered") { status.textContent = "back: " + msg.replayed + " missed"; document.body.dataset.recovered = String(msg.replayed); }
    if (msg.type === "recovery_gap") {
      // The missed pushes cannot be replayed: the title is read again over HTTP instead.
      status.textContent = "gap (" + msg.reason + "): reloading the title";
      since = msg.position;
      fetch("/api/anilibria/v2/titles/" + title).catch(() => {});
    }
    if (msg.type === "new_episode") {
      const e = msg.data.episode, t = msg.data.title;
      const li = document.createElement("li");
      li.className = "episode";
      li.textContent = t.names.ru + " — серия " + e.ordinal + (e.name ? ": " + e.name : "");
      list.appendChild(li);
      document.body.dataset.episodes = String(list.children.length);
    }
  };
}
connect();
</script></body></html>
)HTML";

}  // namespace anipipe::edge
