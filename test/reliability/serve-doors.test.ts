// The doors of `autobatch serve`, tried over real sockets against a real server (the guard's
// rules are unit-tested in test/unit/server/request-guard.test.ts; this checks that every door —
// page, assets, upload, download, WebSocket upgrade — actually uses them): a missing or wrong
// token, a foreign Host (DNS rebinding) and a foreign Origin are refused with 403 and a reason;
// the server listens on loopback only unless --host says otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { TOKEN_PARAM, WS_PATH } from '../../src/shared/api/index.js';
import { ApiDispatcher } from '../../src/main/service/api-dispatch.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { startAppServer, type AppServer } from '../../src/main/server/app-server.js';
import { removeDir, tempDir, within } from './helpers.js';

const CLI = fileURLToPath(new URL('../../../bin/autobatch.js', import.meta.url));

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One raw HTTP request to 127.0.0.1:port with exactly these headers (Host included). */
function request(port: number, pathAndQuery: string, headers: Record<string, string>, method = 'GET', address = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: address, port, path: pathAndQuery, method, headers, setHost: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? 'x' : undefined);
  });
}

/** Tries a WebSocket upgrade; resolves 'open' or the HTTP status it was refused with. */
function upgrade(port: number, query: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${WS_PATH}${query}`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', (e) => reject(e));
  });
}

async function withServer(fn: (server: AppServer) => Promise<void>, host?: string): Promise<void> {
  const home = tempDir();
  const service = new AutoBatchService({ home });
  const dispatcher = new ApiDispatcher(service);
  const server = await startAppServer({ dispatcher, port: 0, ...(host ? { host } : {}) });
  try {
    await fn(server);
  } finally {
    await server.close();
    dispatcher.close();
    await service.close();
    removeDir(home);
  }
}

test('every door refuses a missing or wrong token, a foreign Host and a foreign Origin', { timeout: 60_000 }, async () => {
  await withServer(async (server) => {
    const { port, token } = server;
    const host = `127.0.0.1:${port}`;
    const q = `?${TOKEN_PARAM}=${encodeURIComponent(token)}`;
    const wrong = `?${TOKEN_PARAM}=${encodeURIComponent(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))}`;
    const doors = ['/', '/index.html', '/assets/app.js', '/api/download/csv/1', '/api/upload?path=a.csv'];

    for (const door of doors) {
      const method = door.startsWith('/api/upload') ? 'POST' : 'GET';
      const join = (extra: string) => (door.includes('?') ? `${door}&${extra.slice(1)}` : `${door}${extra}`);
      const cases: [string, string, Record<string, string>][] = [
        ['no token', door, { host }],
        ['a wrong token', join(wrong), { host }],
        ['an empty token', join(`?${TOKEN_PARAM}=`), { host }],
        ['a wrong cookie', door, { host, cookie: `autobatch_token_${port}=nope` }],
        ['another port’s cookie', door, { host, cookie: `autobatch_token_${port + 1}=${token}` }],
        ['a foreign Host (DNS rebinding)', join(q), { host: `evil.example:${port}` }],
        ['a foreign Host without port', join(q), { host: 'evil.example' }],
        ['this host on another port', join(q), { host: `127.0.0.1:${port + 1}` }],
        ['no Host', join(q), {}],
        ['a foreign Origin', join(q), { host, origin: 'http://evil.example' }],
        ['a foreign Origin on the same name, other port', join(q), { host, origin: `http://127.0.0.1:${port + 1}` }],
        ['an https Origin', join(q), { host, origin: `https://127.0.0.1:${port}` }],
        ['the null Origin (sandboxed frame, file://)', join(q), { host, origin: 'null' }],
      ];
      for (const [what, p, headers] of cases) {
        const res = await request(port, p, headers, method);
        if (!headers.host) {
          // Node's HTTP parser answers a request without Host (required by HTTP/1.1) itself.
          assert.ok(res.status === 400 || res.status === 403, `${method} ${door} with ${what}: ${res.status}`);
          continue;
        }
        assert.equal(res.status, 403, `${method} ${door} with ${what}: ${res.status} ${res.body}`);
        assert.match(res.body, /^Forbidden: \S/, `${door} with ${what} says why`);
        assert.equal(res.headers['set-cookie'], undefined, `${door} with ${what} sets no cookie`);
      }
    }
    // The right token opens the page and sets the per-port cookie, which then suffices.
    const ok = await request(port, `/${q}`, { host });
    assert.equal(ok.status, 200);
    const cookie = String(ok.headers['set-cookie']).split(';')[0]!;
    assert.match(cookie, new RegExp(`^autobatch_token_${port}=`));
    assert.match(String(ok.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
    assert.equal((await request(port, '/', { host: `localhost:${port}`, cookie })).status, 200);
    assert.equal((await request(port, '/', { host, cookie, origin: `http://localhost:${port}` })).status, 200);
    assert.match(String(ok.headers['content-security-policy']), /script-src 'self'(;|$)/);
    assert.doesNotMatch(String(ok.headers['content-security-policy']), /unsafe-eval/);

    // The WebSocket upgrade: the same rules.
    assert.equal(await upgrade(port, '', {}), 403, 'no token');
    assert.equal(await upgrade(port, wrong, {}), 403, 'wrong token');
    assert.equal(await upgrade(port, q, { origin: 'http://evil.example' }), 403, 'foreign Origin');
    assert.equal(await upgrade(port, q, { origin: 'null' }), 403, 'null Origin');
    assert.equal(await upgrade(port, q, { host: `evil.example:${port}` }), 403, 'foreign Host');
    assert.equal(await upgrade(port, '', { cookie: `autobatch_token_${port}=nope` }), 403, 'wrong cookie');
    assert.equal(await upgrade(port, q, {}), 'open', 'the right token');
    assert.equal(await upgrade(port, '', { cookie, origin: `http://127.0.0.1:${port}` }), 'open', 'the cookie from the same origin');
  });
});

function nonLoopbackIPv4(): string | undefined {
  for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

function connects(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('serve listens on loopback only unless --host says otherwise', { timeout: 60_000 }, async (t) => {
  const lan = nonLoopbackIPv4();
  await withServer(async (server) => {
    assert.equal(server.host, '127.0.0.1');
    assert.equal((server.server.address() as net.AddressInfo).address, '127.0.0.1');
    assert.ok(await connects('127.0.0.1', server.port));
    if (lan) assert.equal(await connects(lan, server.port), false, `reachable on ${lan}`);
    else t.diagnostic('no non-loopback IPv4 address here: reachability from outside not tried');
  });
  if (!lan) return;
  // --host <this machine's address>: reachable there, and that name is an allowed Host.
  await withServer(async (server) => {
    assert.ok(await connects(lan, server.port));
    const res = await request(server.port, `/?${TOKEN_PARAM}=${encodeURIComponent(server.token)}`, { host: `${lan}:${server.port}` }, 'GET', lan);
    assert.equal(res.status, 200);
    const foreign = await request(server.port, `/?${TOKEN_PARAM}=${encodeURIComponent(server.token)}`, { host: `evil.example:${server.port}` }, 'GET', lan);
    assert.equal(foreign.status, 403);
  }, lan);
});

test('`autobatch serve` binds 127.0.0.1 by default and prints a URL with a fresh token', { timeout: 60_000 }, async () => {
  const home = tempDir();
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await within(
      (async () => {
        while (!out.includes('}')) await new Promise((r) => setTimeout(r, 20));
      })(),
      30_000,
      'serve printing its URL',
    );
    const info = JSON.parse(out) as { url: string; port: number; host: string };
    assert.equal(info.host, '127.0.0.1');
    const url = new URL(info.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.ok((url.searchParams.get(TOKEN_PARAM) ?? '').length >= 32, 'a long random token');
    assert.equal((await request(info.port, '/', { host: `127.0.0.1:${info.port}` })).status, 403);
    assert.equal((await request(info.port, `${url.pathname}${url.search}`, { host: `127.0.0.1:${info.port}` })).status, 200);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    removeDir(home);
  }
});
