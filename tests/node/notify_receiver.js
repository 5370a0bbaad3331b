// The site's Node.js back end as seed 001 writes its receiver of `POST /internal/anilibria/notify`
// (and seed 003's `title_updated`), with node's own http and crypto only, for the integration tests
// of anipipe-notify:
//   - Authorization: Bearer <internal service token>: one of the static --token values, or an HS256
//     JWT verified with --jwt-secret whose `service` (or `iss`) is an allowed service, that expires
//     (exp) and lives at most --jwt-max-lifetime-s from its iat. Missing or bad: 401; a valid token
//     of a service not allowed: 403 (the seed's middleware);
//   - the body, exactly the seed's keys: new_episode {type, title_id, episode, data: {title,
//     episode_name}, timestamp}, title_updated {type, title_id, timestamp}; anything else: 400;
//   - X-Anipipe-Signature (HMAC-SHA256 over "timestamp.body" with --hmac-secret) is checked and
//     logged, not required: anipipe sends it in addition to the token.
// Every call is appended to --log as one JSON line {status, auth, claims, error, signed,
// idempotency_key, body}. POST /_control {"tokens": [...], "jwt_secret": "..."} replaces what is
// accepted (a back end rotating its credentials).
//
//   node notify_receiver.js --port-file FILE --log FILE [--port 0] [--token T]... [--jwt-secret S]
//        [--hmac-secret S] [--service anipipe-notify]... [--jwt-max-lifetime-s 300]
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

function parseArgs(argv) {
  const a = { port: 0, tokens: [], services: [], jwtSecret: '', hmacSecret: '', maxLifetime: 300 };
  for (let i = 2; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (name === '--port') a.port = Number(value);
    else if (name === '--port-file') a.portFile = value;
    else if (name === '--log') a.log = value;
    else if (name === '--token') a.tokens.push(value);
    else if (name === '--jwt-secret') a.jwtSecret = value;
    else if (name === '--hmac-secret') a.hmacSecret = value;
    else if (name === '--service') a.services.push(value);
    else if (name === '--jwt-max-lifetime-s') a.maxLifetime = Number(value);
    else throw new Error(`unknown argument ${name}`);
  }
  if (!a.portFile || !a.log) throw new Error('--port-file and --log are required');
  if (a.services.length === 0) a.services.push('anipipe-notify');
  return a;
}

const args = parseArgs(process.argv);
const log = fs.openSync(args.log, 'a');

function sameSecret(a, b) {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function b64urlJson(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

// Returns the claims, or throws with the reason (401). Only HS256: "none" and others are refused.
function verifyJwt(token, secret) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a JWT');
  const header = b64urlJson(parts[0]);
  if (header.alg !== 'HS256') throw new Error(`alg ${header.alg} refused`);
  const mac = crypto.createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest('base64url');
  if (!sameSecret(mac, parts[2])) throw new Error('bad JWT signature');
  const claims = b64urlJson(parts[1]);
  const now = Math.floor(Date.now() / 1000), leeway = 30;
  if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') throw new Error('exp and iat are required');
  if (now > claims.exp + leeway) throw new Error('JWT expired');
  if (claims.iat > now + leeway) throw new Error('JWT issued in the future');
  if (claims.exp - claims.iat > args.maxLifetime) throw new Error('JWT lives too long');
  return claims;
}

// {status, auth, claims, error}: who called, by the seed's middleware.
function authenticate(header) {
  const m = /^Bearer (\S+)$/.exec(header || '');
  if (!m) return { status: 401, error: 'Missing internal service token' };
  const token = m[1];
  if (args.tokens.some((t) => sameSecret(t, token))) return { status: 200, auth: 'static' };
  if (!args.jwtSecret) return { status: 401, error: 'Invalid internal service token' };
  let claims;
  try {
    claims = verifyJwt(token, args.jwtSecret);
  } catch (e) {
    return { status: 401, error: `Invalid internal service token: ${e.message}` };
  }
  const service = claims.service ?? claims.iss;
  if (!args.services.includes(service)) return { status: 403, auth: 'jwt', claims, error: 'Service not authorized' };
  return { status: 200, auth: 'jwt', claims };
}

const ISO_8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

function exactKeys(obj, keys) {
  return obj !== null && typeof obj === 'object' && !Array.isArray(obj) &&
    JSON.stringify(Object.keys(obj).sort()) === JSON.stringify([...keys].sort());
}

// The reason the body breaks the seed's contract, or null.
function bodyProblem(body) {
  if (!body || typeof body !== 'object') return 'not a JSON object';
  if (!Number.isSafeInteger(body.title_id) || body.title_id < 1) return 'title_id must be a positive integer';
  if (typeof body.timestamp !== 'string' || !ISO_8601.test(body.timestamp) || isNaN(Date.parse(body.timestamp)))
    return 'timestamp must be an ISO 8601 date-time';
  if (body.type === 'title_updated') return exactKeys(body, ['type', 'title_id', 'timestamp']) ? null : 'title_updated has other keys';
  if (body.type !== 'new_episode') return `unknown type ${JSON.stringify(body.type)}`;
  if (!exactKeys(body, ['type', 'title_id', 'episode', 'data', 'timestamp'])) return 'new_episode has other keys';
  if (typeof body.episode !== 'number' || body.episode < 0) return 'episode must be a number';
  if (!exactKeys(body.data, ['title', 'episode_name'])) return 'data must be {title, episode_name}';
  if (typeof body.data.title !== 'string' || body.data.title === '') return 'data.title must be a string';
  if (body.data.episode_name !== null && typeof body.data.episode_name !== 'string') return 'data.episode_name must be a string or null';
  return null;
}

function hmacSigned(req, raw) {
  if (!args.hmacSecret) return null;
  const ts = req.headers['x-anipipe-timestamp'] || '';
  const expected = 'sha256=' + crypto.createHmac('sha256', args.hmacSecret).update(`${ts}.`).update(raw).digest('hex');
  return /^\d+$/.test(ts) && Math.abs(Date.now() / 1000 - Number(ts)) < 300 && sameSecret(expected, req.headers['x-anipipe-signature'] || '');
}

function answer(res, status, obj) {
  const data = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

function notify(req, res, raw) {
  const who = authenticate(req.headers.authorization);
  let body = null;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    body = null;
  }
  let { status, error } = who;
  if (status === 200) {
    const problem = bodyProblem(body);
    if (problem) [status, error] = [400, problem];
  }
  const entry = { status, auth: who.auth ?? null, claims: who.claims ?? null, error: error ?? null, signed: hmacSigned(req, raw),
                  idempotency_key: req.headers['idempotency-key'] ?? null, body };
  fs.writeSync(log, JSON.stringify(entry) + '\n');
  answer(res, status, status === 200 ? { success: true } : { error });
}

function control(res, raw) {
  const c = JSON.parse(raw.toString('utf8'));
  if (Array.isArray(c.tokens)) args.tokens = c.tokens;
  if (typeof c.jwt_secret === 'string') args.jwtSecret = c.jwt_secret;
  answer(res, 200, { tokens: args.tokens.length, jwt: args.jwtSecret !== '' });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    if (req.method === 'POST' && req.url === '/internal/anilibria/notify') return notify(req, res, raw);
    if (req.method === 'POST' && req.url === '/_control') return control(res, raw);
    answer(res, 404, { error: 'not found' });
  });
});
server.keepAliveTimeout = 60000;
server.listen(args.port, '127.0.0.1', () => {
  fs.writeFileSync(`${args.portFile}.tmp`, String(server.address().port));
  fs.renameSync(`${args.portFile}.tmp`, args.portFile);
});
