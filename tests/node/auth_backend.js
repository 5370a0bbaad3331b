// The site's Node.js back end as seed 001 writes its token check, `POST /internal/auth/validate`,
// with node's own http only, for the edge's integration tests (--auth-validate-url):
//   - Authorization: Bearer <internal service token> must be --service-token, else 401
//     {"error":"unauthorized"} (the seed's service middleware: the caller is not a service);
//   - the body is {"token": "<user JWT>"}; anything else: 400;
//   - a token listed with --user TOKEN=USER_ID answers 200 {"valid":true,"user_id":"USER_ID"};
//     any other token 401 {"valid":false,"error":"invalid_token"} (the seed: a refused token).
// Every call is appended to --log as one JSON line {status, token}. POST /_control
// {"down": true} makes every check answer 503 (a back end in trouble), {"down": false} ends it;
// {"revoke": "TOKEN"} removes a user token (a logout).
//
//   node auth_backend.js --port-file FILE --log FILE --service-token T [--user TOKEN=ID]... [--port 0]
'use strict';
const http = require('http');
const fs = require('fs');

function parseArgs(argv) {
  const a = { port: 0, users: new Map() };
  for (let i = 2; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (name === '--port') a.port = Number(value);
    else if (name === '--port-file') a.portFile = value;
    else if (name === '--log') a.log = value;
    else if (name === '--service-token') a.serviceToken = value;
    else if (name === '--user') {
      const eq = value.indexOf('=');
      a.users.set(value.slice(0, eq), value.slice(eq + 1));
    } else throw new Error(`unknown argument ${name}`);
  }
  if (!a.portFile || !a.log || !a.serviceToken) throw new Error('--port-file, --log and --service-token are required');
  return a;
}

const args = parseArgs(process.argv);
let down = false;

function answer(res, status, body, token) {
  fs.appendFileSync(args.log, JSON.stringify({ status, token }) + '\n');
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

const server = http.createServer(async (req, res) => {
  const text = await readBody(req);
  if (req.method === 'POST' && req.url === '/_control') {
    const c = JSON.parse(text || '{}');
    if (typeof c.down === 'boolean') down = c.down;
    if (typeof c.revoke === 'string') args.users.delete(c.revoke);
    res.writeHead(204);
    return res.end();
  }
  if (req.method !== 'POST' || req.url !== '/internal/auth/validate') return answer(res, 404, { error: 'not_found' }, null);
  if (req.headers.authorization !== `Bearer ${args.serviceToken}`) return answer(res, 401, { error: 'unauthorized' }, null);
  let body;
  try {
    body = JSON.parse(text);
  } catch (e) {
    return answer(res, 400, { error: 'invalid_json' }, null);
  }
  if (!body || typeof body.token !== 'string' || Object.keys(body).length !== 1) return answer(res, 400, { error: 'invalid_body' }, null);
  if (down) return answer(res, 503, { error: 'unavailable' }, body.token);
  const user = args.users.get(body.token);
  if (user === undefined) return answer(res, 401, { valid: false, error: 'invalid_token' }, body.token);
  return answer(res, 200, { valid: true, user_id: user }, body.token);
});

server.listen(args.port, '127.0.0.1', () => {
  fs.writeFileSync(args.portFile, String(server.address().port));
});
