// `autobatch serve`: the token, Host and Origin rules over HTTP and WebSocket, loopback only,
// a browser-like WebSocket client that imports and trains and hears rate-limited events,
// uploads of a folder, downloads, and the command itself (one line, graceful shutdown).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import WebSocket from 'ws';
import { createWebSocketApi, type Api, type FetchLike, type UploadableFile, type WebSocketLike } from '../../src/shared/api/index.js';
import { ApiDispatcher } from '../../src/main/service/api-dispatch.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { startAppServer, type AppServer } from '../../src/main/server/app-server.js';
import { openStore } from '../../src/main/store/index.js';
import { tempHome } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

let home: string;
let service: AutoBatchService;
let dispatcher: ApiDispatcher;
let server: AppServer;
const rendererDir = mkdtempSync(path.join(os.tmpdir(), 'autobatch-renderer-'));
mkdirSync(path.join(rendererDir, 'assets'));
writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>AutoBatch</title><script type="module" src="./assets/app.js"></script>');
writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'export {}');
writeFileSync(path.join(path.dirname(rendererDir), 'outside-renderer.js'), 'secret');

before(async () => {
  home = tempHome('autobatch-serve-');
  service = new AutoBatchService({ home });
  dispatcher = new ApiDispatcher(service, { validateResults: true });
  server = await startAppServer({ dispatcher, port: 0, rendererDir });
});
after(async () => {
  await server.close();
  dispatcher.close();
  await service.close();
});

function get(
  pathAndQuery: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: Buffer,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, path: pathAndQuery, method, headers: { host: `127.0.0.1:${server.port}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function wsOutcome(query: string, options: WebSocket.ClientOptions = {}): Promise<{ opened: boolean; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws${query}`, options);
    ws.on('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode });
      res.resume();
    });
    ws.on('error', () => resolve({ opened: false }));
  });
}

const tokenQuery = () => `?token=${encodeURIComponent(server.token)}`;

test('the URL has a random token and the server listens on loopback only', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  assert.equal((server.server.address() as net.AddressInfo).address, '127.0.0.1');
  const other = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal);
  if (other) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: other.address, port: server.port }, () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    assert.ok(refused, `connecting through ${other.address} must fail`);
  }
});

test('HTTP: no token, a wrong token, a foreign Host or a foreign Origin get 403 with a reason', async () => {
  const none = await get('/');
  assert.equal(none.status, 403);
  assert.match(none.body, /missing token/);
  assert.equal((await get('/?token=wrong')).status, 403);
  assert.equal((await get('/assets/app.js')).status, 403);
  const rebinding = await get(`/${tokenQuery()}`, { host: `evil.example:${server.port}` });
  assert.equal(rebinding.status, 403);
  assert.match(rebinding.body, /foreign Host/);
  const origin = await get(`/api/download/csv/1${tokenQuery()}`, { origin: 'https://evil.example' });
  assert.equal(origin.status, 403);
  assert.match(origin.body, /foreign Origin/);
  const upload = await get(`/api/upload${tokenQuery()}&path=a.csv`, { origin: 'https://evil.example' }, 'POST', Buffer.from('x'));
  assert.equal(upload.status, 403);
});

test('HTTP: the tokened page sets a cookie that later requests use; pages carry a strict CSP', async () => {
  const page = await get(`/${tokenQuery()}`);
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>AutoBatch<\/title>/);
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-eval/);
  assert.equal(page.headers['referrer-policy'], 'no-referrer');
  const cookie = String(page.headers['set-cookie']).split(';')[0]!;
  assert.match(String(page.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
  const asset = await get('/assets/app.js', { cookie });
  assert.equal(asset.status, 200);
  assert.match(String(asset.headers['content-type']), /javascript/);
  const route = await get('/runs/3', { cookie });
  assert.equal(route.status, 200, 'client-side routes get the page');
  for (const escape of ['/assets/../../outside-renderer.js', '/%2e%2e/outside-renderer.js', '/..%2foutside-renderer.js']) {
    const res = await get(escape, { cookie });
    assert.equal(res.status, 404, escape);
    assert.doesNotMatch(res.body, /secret/);
  }
});

test('WebSocket: the token is required, and foreign Origin and Host are refused', async () => {
  assert.deepEqual(await wsOutcome(''), { opened: false, status: 403 });
  assert.deepEqual(await wsOutcome('?token=wrong'), { opened: false, status: 403 });
  assert.deepEqual(await wsOutcome(tokenQuery(), { origin: 'https://evil.example' }), { opened: false, status: 403 });
  assert.deepEqual(await wsOutcome(tokenQuery(), { headers: { host: `attacker.example:${server.port}` } }), { opened: false, status: 403 });
  assert.deepEqual(await wsOutcome(tokenQuery(), { origin: `http://127.0.0.1:${server.port}` }), { opened: true });
  assert.deepEqual(await wsOutcome(tokenQuery()), { opened: true });
});

function browserLikeApi(): Api {
  return createWebSocketApi({
    baseUrl: `http://127.0.0.1:${server.port}`,
    token: server.token,
    createSocket: (url) => new WebSocket(url, { origin: `http://127.0.0.1:${server.port}` }) as unknown as WebSocketLike,
    fetch: ((url, init) => fetch(url, init as RequestInit)) as FetchLike,
    fileBody: (f) => (f as UploadableFile & { data: Buffer }).data,
  });
}

test('a WebSocket client imports the sample, trains one epoch and hears rate-limited events and the final status', { timeout: 300_000 }, async () => {
  const api = browserLikeApi();
  try {
    const ds = await api.importSample({ limit: 400, name: 'ws-mnist' });
    assert.equal(ds.count, 400);
    const metricTimes: number[] = [];
    const statuses: string[] = [];
    let steps = 0;
    api.on('run-metrics', (m) => {
      metricTimes.push(performance.now());
      steps += m.steps.length;
    });
    const finished = new Promise<string>((resolve) => {
      api.on('run-status', (s) => {
        statuses.push(s.status);
        if (['completed', 'failed', 'stopped', 'interrupted'].includes(s.status)) resolve(s.error ?? s.status);
      });
    });
    const { runId } = await api.startTraining({ dataset: ds.id, config: { model: 'mlp', epochs: 1, batchSize: 8, backend: 'wasm' } });
    assert.equal(await finished, 'completed');
    assert.deepEqual(statuses, ['queued', 'running', 'completed']);
    assert.ok(metricTimes.length >= 1 && steps >= 1);
    // At most ~10 updates in any one-second window (one flush per 100 ms, plus the leading one).
    for (let i = 0; i < metricTimes.length; i++) {
      const inWindow = metricTimes.filter((t) => t >= metricTimes[i]! && t < metricTimes[i]! + 1000).length;
      assert.ok(inWindow <= 11, `${inWindow} metric events within one second`);
    }
    const detail = await api.getRun({ runId });
    assert.equal(detail.run.status, 'completed');
    assert.ok(detail.run.bestValAccuracy !== null);
    assert.ok(detail.metricCount > 0);

    // Downloads: the browser gets the CSV and the model as attachments.
    const csv = await get(`/api/download/csv/${runId}${tokenQuery()}`);
    assert.equal(csv.status, 200);
    assert.match(String(csv.headers['content-disposition']), /^attachment; filename="run-\d+-.*\.csv"$/);
    assert.match(csv.body, /^step,epoch,time,loss/);
    const model = await get(`/api/download/model/${runId}${tokenQuery()}`);
    assert.equal(model.status, 200);
    assert.equal(model.headers['content-type'], 'application/x-tar');
    assert.equal((await get(`/api/download/model/9999${tokenQuery()}`)).status, 404);
  } finally {
    api.close();
  }
});

async function png(value: number): Promise<Buffer> {
  return sharp(Buffer.alloc(12 * 12, value), { raw: { width: 12, height: 12, channels: 1 } })
    .png()
    .toBuffer();
}

test('a folder uploaded from the browser is imported, its problems listed; unsafe paths are refused', { timeout: 120_000 }, async () => {
  const api = browserLikeApi();
  try {
    const files: (UploadableFile & { data: Buffer })[] = [];
    for (const [cls, value] of [
      ['cats', 30],
      ['dogs', 220],
    ] as const) {
      for (let i = 0; i < 6; i++) {
        const data = await png(value + i);
        files.push({ name: `${i}.png`, size: data.length, webkitRelativePath: `pets/${cls}/${i}.png`, data });
      }
    }
    const broken = Buffer.from('not a png at all');
    files.push({ name: 'broken.png', size: broken.length, webkitRelativePath: 'pets/dogs/broken.png', data: broken });
    const progress: number[] = [];
    const { source } = await api.upload(files, (sent) => progress.push(sent));
    assert.equal(path.basename(source), 'pets', 'the folder keeps its name');
    assert.ok(source.startsWith(path.join(home, 'uploads')));
    assert.equal(
      progress.at(-1),
      files.reduce((s, f) => s + f.size, 0),
    );
    const ds = await api.importDataset({ source });
    assert.equal(ds.name, 'pets');
    assert.deepEqual(
      ds.classes.map((c) => [c.name, c.count]),
      [
        ['cats', 6],
        ['dogs', 6],
      ],
    );
    assert.equal(ds.problems.length, 1);
    assert.match(ds.problems[0]!.file, /broken\.png$/);
  } finally {
    api.close();
  }
  for (const bad of ['../escape.csv', '/etc/passwd', 'a/../../b.csv', 'C:/x.csv']) {
    const res = await get(
      `/api/upload${tokenQuery()}&path=${encodeURIComponent(bad)}`,
      { 'content-type': 'application/octet-stream' },
      'POST',
      Buffer.from('a,b\n1,2\n'),
    );
    assert.equal(res.status, 400, bad);
    assert.equal(JSON.parse(res.body).error.field, 'path');
  }
  const unknown = await get(`/api/upload${tokenQuery()}&path=a.csv&upload=${'0'.repeat(32)}`, {}, 'POST', Buffer.from('x'));
  assert.equal(unknown.status, 404);
});

test('`autobatch serve` prints one line, serves, and on SIGTERM stops its running job and exits', { timeout: 300_000 }, async () => {
  const cliHome = tempHome('autobatch-serve-cli-');
  const child = spawn(process.execPath, [path.join(root, 'bin', 'autobatch.js'), 'serve', '--port', '0', '--home', cliHome], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!stdout.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const m = /^AutoBatch Studio: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+))\n$/.exec(stdout);
  assert.ok(m, `one line with the URL, got ${JSON.stringify(stdout)} ${stderr}`);
  const port = Number(m[2]);
  const api = createWebSocketApi({
    baseUrl: `http://127.0.0.1:${port}`,
    token: m[3]!,
    createSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
  });
  let runId = 0;
  try {
    const ds = await api.importSample({ limit: 300 });
    const running = new Promise<void>((resolve) => api.on('run-status', (s) => s.status === 'running' && resolve()));
    ({ runId } = await api.startTraining({ dataset: ds.id, config: { model: 'mlp', epochs: 500, batchSize: 4, backend: 'wasm' } }));
    await running;
  } finally {
    api.close();
  }
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.equal(stdout.trim().split('\n').length, 1, 'nothing but the one line on stdout');
  const store = openStore(cliHome, { recoverInterrupted: false });
  try {
    const run = store.runs.get(runId)!;
    assert.ok(['stopped', 'interrupted'].includes(run.status), `the run ended ${run.status}`);
  } finally {
    store.close();
  }
  assert.ok(readFileSync(path.join(cliHome, 'autobatch.db')).length > 0);
});
