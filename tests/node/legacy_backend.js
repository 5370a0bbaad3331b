// The site's legacy Node.js back end as the edge sees it from in front (seed 003's migration), with
// node's own http only, for the edge's migration tests and scripts/bench-migration:
//   - GET /api/anilibria/v1/titles/{id} and /api/anilibria/v1/titles?page=&limit= in the v1 format
//     the edge emits ({"success":true,"data":...}, common/catalog/title_v1.hpp), for the titles it
//     is given (POST /_control/titles [v1 title, ...]); ETag "legacy-<id>" tells its answers apart;
//   - routes the edge does not have: GET /api/anilibria/genres, POST /api/anilibria/echo (201 with
//     the method, URL, headers and body it got, a Set-Cookie and a Location), GET
//     /api/anilibria/fail (500), GET|HEAD /api/anilibria/cookies (two Set-Cookie headers);
//   - POST /_control/differ {"field": "data.description", "value": ...} plants a difference in its
//     title answers: "value" replaces, "reverse": true reverses a list, "shift_ms": N moves an
//     ISO-8601 timestamp, "add" sets a field only it has, {"clear": true} removes them all; "[]" in
//     a path applies to every element of a list;
//   - POST /_control/sleep {"ms": N} delays its title answers (GET); POST /_control/keepalive
//     {"ms": N} closes idle keep-alive connections after N ms (30 s); GET /_control/requests lists every
//     request it served ({method, url, headers, body}), DELETE /_control/requests forgets them.
//
//   node legacy_backend.js --port-file FILE [--port 0] [--quiet true]
'use strict';
const http = require('http');
const fs = require('fs');

const args = { port: 0, quiet: false };
for (let i = 2; i < process.argv.length; i += 2) {
  const [name, value] = [process.argv[i], process.argv[i + 1]];
  if (name === '--port') args.port = Number(value);
  else if (name === '--port-file') args.portFile = value;
  else if (name === '--quiet') args.quiet = value === 'true';
  else throw new Error(`unknown argument ${name}`);
}
if (!args.portFile) throw new Error('--port-file is required');

const titles = new Map();
let differences = [];
let sleepMs = 0;
let seen = [];

// Applies fn(parent, key) at every place a path names ("data.episodes[].updatedAt").
function atPath(obj, path, fn) {
  const parts = path.split('.');
  const walk = (node, i) => {
    if (node === null || typeof node !== 'object') return;
    let key = parts[i];
    const each = key.endsWith('[]');
    if (each) key = key.slice(0, -2);
    if (i === parts.length - 1 && !each) return fn(node, key);
    const next = node[key];
    if (each && Array.isArray(next)) next.forEach((e) => (i === parts.length - 1 ? null : walk(e, i + 1)));
    else if (!each) walk(next, i + 1);
  };
  walk(obj, 0);
}

function planted(body) {
  const out = JSON.parse(JSON.stringify(body));
  for (const d of differences) {
    atPath(out, d.field, (parent, key) => {
      if ('value' in d || 'add' in d) parent[key] = 'value' in d ? d.value : d.add;
      else if (d.reverse && Array.isArray(parent[key])) parent[key].reverse();
      else if (d.shift_ms && typeof parent[key] === 'string') parent[key] = new Date(Date.parse(parent[key]) + d.shift_ms).toISOString();
    });
  }
  return out;
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, Object.assign({ 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }, headers));
  res.end(text);
}

function titleRoutes(req, res, url) {
  const one = url.pathname.match(/^\/api\/anilibria\/v1\/titles\/([0-9]+)$/);
  if (one) {
    const t = titles.get(Number(one[1]));
    if (!t) return send(res, 404, { error: 'not_found', detail: 'no such title' });
    return send(res, 200, planted({ success: true, data: t }), { ETag: `"legacy-${t.id}"`, 'Cache-Control': 'public, max-age=30' });
  }
  const page = Number(url.searchParams.get('page') || 1);
  const limit = Number(url.searchParams.get('limit') || 20);
  const all = [...titles.values()].sort((a, b) => b.id - a.id);
  const data = all.slice((page - 1) * limit, page * limit);
  const pagination = { page, limit, total: all.length, pages: Math.ceil(all.length / limit) };
  return send(res, 200, planted({ success: true, data, pagination }), { ETag: '"legacy-list"' });
}

function control(req, res, url, text) {
  const c = text ? JSON.parse(text) : {};
  if (url.pathname === '/_control/titles') for (const t of c) titles.set(t.id, t);
  else if (url.pathname === '/_control/differ') differences = c.clear ? [] : differences.concat([c]);
  else if (url.pathname === '/_control/sleep') sleepMs = c.ms;
  else if (url.pathname === '/_control/keepalive') server.keepAliveTimeout = c.ms;
  else if (url.pathname === '/_control/requests') {
    if (req.method === 'DELETE') seen = [];
    else return send(res, 200, seen);
  } else return send(res, 404, { error: 'not_found' });
  res.writeHead(204);
  return res.end();
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://legacy');
    if (url.pathname.startsWith('/_control/')) return control(req, res, url, text);
    if (!args.quiet) seen.push({ method: req.method, url: req.url, headers: req.headers, body: text });
    if (url.pathname.startsWith('/api/anilibria/v1/titles') && req.method === 'GET') {
      // Not setTimeout(0): a timer waits at least a millisecond, which a benchmark would measure.
      return sleepMs > 0 ? setTimeout(() => titleRoutes(req, res, url), sleepMs) : titleRoutes(req, res, url);
    }
    if (url.pathname === '/api/anilibria/genres' && req.method === 'GET') return send(res, 200, ['Комедия', 'Экшен']);
    if (url.pathname === '/api/anilibria/echo' && req.method === 'POST')
      return send(res, 201, { method: req.method, url: req.url, headers: req.headers, body: text }, {
        'Set-Cookie': 'session=legacy; Path=/',
        Location: '/api/anilibria/echo/1',
      });
    if (url.pathname === '/api/anilibria/cookies' && (req.method === 'GET' || req.method === 'HEAD'))
      return send(res, 200, { cookies: 2 }, { 'Set-Cookie': ['first=1; Path=/', 'second=2; Path=/; HttpOnly'] });
    if (url.pathname === '/api/anilibria/fail') return send(res, 500, { error: 'boom' });
    return send(res, 404, { error: 'not_found', detail: `legacy has no ${req.method} ${url.pathname}` });
  });
});
server.keepAliveTimeout = 30000;

server.listen(args.port, '127.0.0.1', () => {
  fs.writeFileSync(args.portFile, String(server.address().port));
});
