#pragma once
// GET / of `anipipe-ops serve`: the ops page. Plain HTML, CSS and script in one response (no CDN,
// no build step, nothing fetched but this process's /api); it refreshes itself every few seconds.
// Everything shown is set with textContent: record keys, values and errors are whatever producers
// wrote, never markup.
namespace anipipe::ops {

inline constexpr const char* kOpsPage = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>anipipe ops</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--mute:#6b7385;--line:#e3e6ec;--bad:#c0392b;--warn:#d68910;--ok:#1e8449;--accent:#2e5ca8}
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;gap:1em;align-items:center;padding:.7em 1.2em;background:#1d2330;color:#fff}
header h1{font-size:17px;margin:0;font-weight:600}header .mute{color:#aab}#status.bad{color:#f88}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:1em;padding:1em}
section{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.8em 1em;min-width:0}
section h2{font-size:15px;margin:0 0 .6em}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--mute);font-weight:500;font-size:12px}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.pick{cursor:pointer}tr.pick:hover,tr.sel{background:#eef3fb}.lagging{color:var(--bad);font-weight:600}.ok{color:var(--ok)}
.mute{color:var(--mute)}.err{color:var(--bad)}pre{background:#f3f4f7;padding:.6em;overflow:auto;max-height:18em;white-space:pre-wrap;word-break:break-all;margin:.4em 0}
button{font:inherit;padding:.15em .6em;border:1px solid #b9c0cc;border-radius:4px;background:#fff;cursor:pointer}
button.go{background:var(--accent);color:#fff;border-color:var(--accent)}input,select{font:inherit;padding:.15em .3em;border:1px solid #b9c0cc;border-radius:4px}
.filters{display:flex;flex-wrap:wrap;gap:.4em;margin-bottom:.6em;align-items:center}.filters input{width:9em}.filters input[type=checkbox]{width:auto}
.cut{max-width:22em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}#dlq .cut{max-width:9em}td.act{white-space:nowrap}section{overflow-x:auto}
#redrive-panel{border:1px solid var(--warn);background:#fffaf0;padding:.5em;border-radius:4px;margin-top:.6em}
</style></head>
<body>
<header><h1>anipipe ops</h1><label class="mute"><input type="checkbox" id="auto" checked> refresh every 5 s</label>
<input id="filter" placeholder="filter topics and groups" style="width:16em"><span class="mute" id="updated">loading…</span><span id="status"></span></header>
<main>
<section id="groups"><h2>Consumer groups</h2><table><thead><tr><th>group</th><th>state</th><th class="n">members</th></tr></thead>
<tbody id="groups-body"></tbody></table><div id="lag"></div></section>
<section id="dlq"><h2>Dead letters <span class="mute" id="dlq-count"></span></h2>
<div class="filters"><input id="f-source" placeholder="source topic"><input id="f-worker" placeholder="worker"><input id="f-error" placeholder="error contains">
<input id="f-since" placeholder="since (RFC 3339)"><input id="f-limit" placeholder="limit" value="100" style="width:5em"><button id="f-apply">filter</button></div>
<table><thead><tr><th>time</th><th>id</th><th>from</th><th>worker</th><th>key</th><th>error</th><th></th></tr></thead><tbody id="dlq-body"></tbody></table>
<div id="redrive-panel" hidden></div><div id="dlq-detail"></div></section>
<section id="freshness"><h2>Freshness <span class="mute">(upstream observation → effect)</span></h2><table><thead><tr><th>stage</th>
<th class="n">effects</th><th class="n">p50 s</th><th class="n">p95 s</th><th class="n">p99 s</th></tr></thead><tbody id="fresh-body"></tbody></table>
<div id="fresh-errors" class="err"></div></section>
<section id="topics"><h2>Topics</h2><table><thead><tr><th>topic</th><th class="n">partitions</th><th class="n">offsets</th><th>end offsets</th></tr></thead>
<tbody id="topics-body"></tbody></table></section>
<section id="tail"><h2>Live tail</h2><div class="filters"><select id="tail-topic"><option value="">choose a topic</option></select>
<input id="tail-n" value="20" style="width:4em"><label class="mute"><input type="checkbox" id="tail-live" checked> live</label></div>
<table><thead><tr><th>time</th><th>p:offset</th><th>key</th><th>producer</th><th>value</th></tr></thead><tbody id="tail-body"></tbody></table></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
if (location.hash.startsWith("#token=")) { sessionStorage.setItem("anipipe-ops-token", decodeURIComponent(location.hash.slice(7))); history.replaceState(null, "", location.pathname); }
const token = sessionStorage.getItem("anipipe-ops-token");
function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") e.className = v; else if (k === "data") Object.assign(e.dataset, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const kid of kids) e.append(kid instanceof Node ? kid : document.createTextNode(kid == null ? "" : String(kid)));
  return e;
}
async function api(path, body) {
  const headers = {};
  if (token) headers.Authorization = "Bearer " + token;
  const init = { headers };
  if (body !== undefined) { init.method = "POST"; headers["Content-Type"] = "application/json"; headers["X-Anipipe-Ops"] = "1"; init.body = JSON.stringify(body); }
  const r = await fetch(path, init);
  const data = await r.json().catch(() => ({ error: "bad_response", message: "HTTP " + r.status }));
  if (!r.ok) throw new Error(data.message || data.error || ("HTTP " + r.status));
  return data;
}
const fmt = (x) => (Math.round(x * 1000) / 1000).toLocaleString("en");
// Today's records by their time of day, older ones by date too; the full time is the cell's title.
const shortTime = (t) => t.slice(0, 10) === new Date().toISOString().slice(0, 10) ? t.slice(11, 19) : t.slice(0, 16).replace("T", " ");
const int = (x) => Number(x).toLocaleString("en");
const params = new URLSearchParams(location.search);
let selectedGroup = params.get("group") || "";
$("filter").value = params.get("filter") || "";
// Busy clusters hold hundreds of topics and groups: a name filter, kept in the address for sharing.
const shown = (name) => name.includes($("filter").value.trim()) || name === selectedGroup;
let problems = [];
function note(where, e) { problems.push(where + ": " + e.message); }

async function loadTopics() {
  const topics = await api("/api/topics");
  const body = $("topics-body"); body.replaceChildren();
  const select = $("tail-topic"); const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, "choose a topic"));
  for (const t of topics) {
    select.append(el("option", { value: t.topic }, t.topic));
    if (!shown(t.topic)) continue;
    body.append(el("tr", { data: { topic: t.topic } }, el("td", {}, t.topic), el("td", { class: "n" }, t.partitions.length),
      el("td", { class: "n" }, int(t.span)), el("td", { class: "mute cut" }, t.partitions.map((p) => p.high).join(" "))));
  }
  select.value = select.dataset.init ? chosen : params.get("tail") || "";
  select.dataset.init = "1";
}
async function loadGroups() {
  const groups = await api("/api/groups");
  const body = $("groups-body"); body.replaceChildren();
  for (const g of groups.filter((g) => shown(g.group))) {
    const row = el("tr", { class: "pick" + (g.group === selectedGroup ? " sel" : ""), data: { group: g.group },
      onclick: () => { selectedGroup = g.group; refresh(); } },
      el("td", {}, g.group), el("td", { class: g.state === "Stable" ? "ok" : "mute" }, g.state), el("td", { class: "n" }, g.members));
    body.append(row);
  }
  if (selectedGroup) await loadLag(); else $("lag").replaceChildren(el("p", { class: "mute" }, "Choose a group for its members and lag."));
}
async function loadLag() {
  const lag = await api("/api/groups/lag?group=" + encodeURIComponent(selectedGroup));
  const rows = lag.partitions.map((p) => el("tr", {}, el("td", {}, p.topic), el("td", { class: "n" }, p.partition), el("td", {}, p.owner || "—"),
    el("td", { class: "n" }, p.committed < 0 ? "—" : int(p.committed)), el("td", { class: "n" }, int(p.end)),
    el("td", { class: "n lag" + (p.lag > 0 ? " lagging" : ""), data: { topic: p.topic, partition: p.partition } }, (p.lag_capped ? "≥" : "") + int(p.lag)),
    el("td", { class: "n" + (p.lag_seconds > 60 ? " lagging" : "") }, fmt(p.lag_seconds))));
  $("lag").replaceChildren(
    el("h2", {}, "Lag of ", el("span", { id: "lag-group" }, lag.group), " ", el("span", { class: "mute" }, lag.state + ", " + lag.members + " member(s)")),
    el("p", {}, "total ", el("b", { id: "lag-total", class: lag.total_lag > 0 ? "lagging" : "ok" }, (lag.total_lag_capped ? "≥" : "") + int(lag.total_lag)),
      " record(s), oldest unread ", el("b", { id: "lag-seconds" }, fmt(lag.max_lag_seconds)), " s ",
      el("span", { class: "mute" }, "(what a read_committed consumer would read: transaction markers are not records)")),
    el("table", {}, el("thead", {}, el("tr", {}, ...["topic", "partition", "owner", "committed", "end", "lag", "lag s"].map((h, i) => el("th", { class: i === 1 || i > 2 ? "n" : "" }, h)))),
      el("tbody", {}, ...rows)));
}
function dlqQuery() {
  const q = new URLSearchParams();
  for (const [id, name] of [["f-source", "source_topic"], ["f-worker", "worker"], ["f-error", "error"], ["f-since", "since"], ["f-limit", "limit"]])
    if ($(id).value.trim()) q.set(name, $(id).value.trim());
  return q;
}
async function loadDlq() {
  const q = dlqQuery();
  const letters = await api("/api/dlq?" + q.toString());
  $("dlq-count").textContent = "(" + letters.length + (q.get("limit") && letters.length >= Number(q.get("limit")) ? ", the newest" : "") + ")";
  const body = $("dlq-body"); body.replaceChildren();
  for (const d of letters.slice().reverse()) {
    const id = d.partition + ":" + d.offset;
    const from = d.source_partition < 0 ? d.source_topic : d.source_topic + "[" + d.source_partition + "]@" + d.source_offset;
    body.append(el("tr", { data: { dlqId: id } }, el("td", { class: "mute act", title: d.time }, shortTime(d.time)), el("td", {}, id), el("td", { class: "cut" }, from),
      el("td", {}, d.worker), el("td", { class: "cut" }, d.key == null ? "—" : d.key), el("td", { class: "cut err", title: d.error }, d.error),
      el("td", { class: "act" }, el("button", { onclick: () => show(id) }, "show"), " ",
        d.redriven > 0 ? el("span", { class: "mute" }, "re-driven " + d.redriven + "×") : el("button", { class: "redrive", onclick: () => dryRun(id) }, "re-drive"))));
  }
}
async function show(id) {
  try {
    const d = await api("/api/dlq/record?id=" + encodeURIComponent(id));
    let value = d.value;
    try { value = JSON.stringify(JSON.parse(d.value), null, 2); } catch (e) { /* not JSON: as it is */ }
    $("dlq-detail").replaceChildren(el("h2", {}, "Dead letter " + id), el("p", {}, d.error),
      el("p", { class: "mute" }, "from " + d.source_topic + " · worker " + d.worker + " · trace " + d.headers.traceparent + " · redrive_count " + d.redrive_count),
      el("b", {}, "original value"), el("pre", {}, value == null ? "(none)" : value), el("b", {}, "envelope"), el("pre", {}, d.envelope));
  } catch (e) { $("dlq-detail").replaceChildren(el("p", { class: "err" }, e.message)); }
}
function outcomes(report) {
  return el("ul", {}, ...report.records.map((r) => el("li", { class: "outcome", data: { outcome: r.outcome } }, r.outcome + " " + r.record + ": " + r.detail)));
}
async function dryRun(id) {
  const panel = $("redrive-panel"); panel.hidden = false;
  panel.replaceChildren(el("p", {}, "Dry run for " + id + "…"));
  try {
    const report = await api("/api/dlq/redrive", { id, dry_run: true });
    const can = report.would_redrive > 0;
    panel.replaceChildren(el("b", {}, "Dry run: nothing published yet"), outcomes(report),
      can ? el("button", { class: "go", id: "redrive-confirm", onclick: () => redrive(id) }, "Re-drive " + id + " now") : "",
      " ", el("button", { onclick: () => { panel.hidden = true; } }, "cancel"));
  } catch (e) { panel.replaceChildren(el("p", { class: "err" }, e.message)); }
}
async function redrive(id) {
  const panel = $("redrive-panel");
  try {
    const report = await api("/api/dlq/redrive", { id, dry_run: false });
    panel.replaceChildren(el("b", { id: "redrive-done" }, "Re-driven: " + report.redriven + ", refused: " + report.refused + ", failed: " + report.failed), outcomes(report),
      el("button", { onclick: () => { panel.hidden = true; } }, "close"));
    await loadDlq();
  } catch (e) { panel.replaceChildren(el("p", { class: "err" }, e.message)); }
}
async function loadFreshness() {
  const f = await api("/api/freshness");
  const body = $("fresh-body"); body.replaceChildren();
  for (const s of f.stages)
    body.append(el("tr", { data: { stage: s.stage } }, el("td", {}, s.stage), el("td", { class: "n" }, int(s.count)),
      el("td", { class: "n" }, fmt(s.p50_seconds)), el("td", { class: "n" }, fmt(s.p95_seconds)), el("td", { class: "n" }, fmt(s.p99_seconds))));
  if (!f.stages.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "mute" }, "No freshness yet (start the page with --metrics-url for each worker).")));
  $("fresh-errors").textContent = f.errors.join("; ");
}
async function loadTail() {
  const topic = $("tail-topic").value;
  if (!topic) return;
  const records = await api("/api/tail?topic=" + encodeURIComponent(topic) + "&n=" + encodeURIComponent($("tail-n").value || "20"));
  const body = $("tail-body"); body.replaceChildren();
  for (const r of records.slice().reverse())
    body.append(el("tr", {}, el("td", { class: "mute act", title: r.time }, shortTime(r.time)), el("td", {}, r.partition + ":" + r.offset), el("td", { class: "cut" }, r.key == null ? "—" : r.key),
      el("td", {}, r.producer || "—"), el("td", { class: "cut", title: r.value || "" }, r.value == null ? "(tombstone)" : r.value)));
}
let busy = false;
async function refresh() {
  if (busy) return;
  busy = true; problems = [];
  // The tail after the topics: the first load fills the topic list it reads from.
  await Promise.all([loadTopics().catch((e) => note("topics", e)).then(() => ($("tail-live").checked ? loadTail() : null)).catch((e) => note("tail", e)),
    loadGroups().catch((e) => note("groups", e)), loadDlq().catch((e) => note("dead letters", e)), loadFreshness().catch((e) => note("freshness", e))]);
  busy = false;
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  $("status").textContent = problems.join(" · "); $("status").className = problems.length ? "bad" : "";
  document.body.dataset.loaded = "1";
}
$("filter").addEventListener("change", () => {
  const q = new URLSearchParams(location.search);
  if ($("filter").value.trim()) q.set("filter", $("filter").value.trim()); else q.delete("filter");
  history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : ""));
  refresh();
});
$("f-apply").addEventListener("click", () => loadDlq().catch((e) => note("dead letters", e)));
$("tail-topic").addEventListener("change", () => loadTail().catch((e) => note("tail", e)));
setInterval(() => { if ($("auto").checked) refresh(); }, 5000);
setInterval(() => { if ($("tail-live").checked && !busy) loadTail().catch(() => {}); }, 2000);
refresh();
</script></body></html>
)HTML";

}  // namespace anipipe::ops
