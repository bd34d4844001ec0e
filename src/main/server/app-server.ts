// `autobatch serve`: one node:http server on 127.0.0.1 (unless --host says otherwise) that
// serves the built renderer, the WebSocket API (same port, WS_PATH), uploads for dataset import
// and downloads of exports. Every request passes the guard (token, Host, Origin) first and is
// answered 403 with a short reason otherwise.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeWire, encodeWire, HTTP_ROUTES, recipeFolderName, TOKEN_PARAM, WS_PATH, type ExportFile, type WireResponse } from '../../shared/api/index.js';
import { contentSecurityPolicy } from '../../shared/csp.js';
import type { ApiDispatcher } from '../service/api-dispatch.js';
import { exportFileBytes } from '../service/app-core.js';
import { folderEntries, tarArchive } from '../service/tar.js';
import { allowedHostsFor, cookieName, guardRequest, type GuardConfig } from './request-guard.js';
import { NOT_BUILT_PAGE, rendererBuilt, resolveStatic, sendFile } from './static-files.js';
import { UploadError, UploadStore } from './uploads.js';

/** dist/renderer, where the Vite build of src/renderer is written. */
export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../../renderer/', import.meta.url));

interface AppServerOptions {
  dispatcher: ApiDispatcher;
  /** 0 picks a free port. */
  port?: number;
  /** Address to listen on; default 127.0.0.1 (loopback only). */
  host?: string;
  rendererDir?: string;
  /** Fixed token (tests); default 32 random bytes. */
  token?: string;
  /** Largest WebSocket message accepted from a client. */
  maxMessageBytes?: number;
}

export interface AppServer {
  /** The URL to open, with ?token=. */
  readonly url: string;
  readonly token: string;
  readonly port: number;
  readonly host: string;
  readonly server: Server;
  /** Stops accepting, closes sockets, detaches from the dispatcher (the service is the caller's). */
  close(): Promise<void>;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** Names this machine answers to on its interfaces (for --host 0.0.0.0). */
function localNames(): string[] {
  const addresses = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  return [os.hostname(), ...addresses];
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Headers of every answer: a strict CSP whose connect-src is this server's WebSocket, and no framing or referrers. */
function securityHeaders(host: string, port: number): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy({ connectSrc: [`ws://${urlHost(host)}:${port}`, `ws://localhost:${port}`, `ws://127.0.0.1:${port}`] }),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    // The token is in the page's URL: never send it to anyone as a Referer.
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** How one HTTP answer is written, with the server's headers (and the cookie, when the token came in the URL). */
class Reply {
  constructor(
    readonly res: ServerResponse,
    readonly headers: Record<string, string>,
  ) {}

  deny(status: number, reason: string): void {
    this.res.writeHead(status, { ...this.headers, 'content-type': 'text/plain; charset=utf-8' });
    this.res.end(`${status === 403 ? 'Forbidden' : 'Error'}: ${reason}\n`);
  }

  json(status: number, body: unknown): void {
    this.res.writeHead(status, { ...this.headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    this.res.end(JSON.stringify(body));
  }
}

async function receiveUpload(req: IncomingMessage, url: URL, uploads: UploadStore, reply: Reply): Promise<void> {
  if (req.method !== 'POST') return reply.deny(405, 'use POST');
  try {
    reply.json(200, await uploads.receive(req, url.searchParams.get('upload'), url.searchParams.get('path')));
  } catch (err) {
    const status = err instanceof UploadError ? err.status : 500;
    if (!req.complete) req.resume(); // drain what is left so the answer reaches the browser
    reply.json(status, {
      error: { code: status === 500 ? 'internal' : 'rejected', message: (err as Error).message, field: err instanceof UploadError ? err.field : undefined },
    });
  }
}

const HTTP_STATUS_OF: Partial<Record<string, number>> = { 'not-found': 404, 'invalid-params': 400, internal: 500 };

function sendAttachment(reply: Reply, file: { fileName: string; mimeType: string }, bytes: Buffer): void {
  reply.res.writeHead(200, {
    ...reply.headers,
    'content-type': file.mimeType,
    'content-length': String(bytes.length),
    'content-disposition': `attachment; filename="${file.fileName}"`,
    'cache-control': 'no-store',
  });
  reply.res.end(bytes);
}

/**
 * A recipe (exportRecipe) written into a temporary folder and sent as a tar of it, the folder
 * removed after. The query's workers and weights reach the API as they are: its schema checks them.
 */
async function sendRecipe(kind: string, id: number, url: URL, dispatcher: ApiDispatcher, reply: Reply): Promise<void> {
  const workers = url.searchParams.get('workers');
  const params = {
    source: { kind, id },
    workers: workers !== null && /^\d+$/.test(workers) ? Number(workers) : workers,
    withWeights: url.searchParams.get('weights') === '1',
  };
  const name = recipeFolderName({ source: { kind: kind as 'run' | 'tuning', id }, workers: Number(workers), withWeights: params.withWeights });
  const work = mkdtempSync(path.join(os.tmpdir(), 'autobatch-recipe-download-'));
  try {
    const answer = await dispatcher.dispatch({ id: 0, method: 'exportRecipe', params: { ...params, out: path.join(work, name) } });
    if (!answer.ok) return reply.json(HTTP_STATUS_OF[answer.error.code] ?? 409, { error: answer.error });
    const { folder } = answer.result as { folder: string };
    sendAttachment(reply, { fileName: `${name}.tar`, mimeType: 'application/x-tar' }, await tarArchive(folderEntries(folder, name)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A run's CSV or model archive, or a recipe folder, as a file download, built by the API's export calls. */
async function sendDownload(req: IncomingMessage, url: URL, dispatcher: ApiDispatcher, reply: Reply): Promise<void> {
  const recipe = /^\/api\/download\/recipe\/(run|tuning)\/(\d+)$/.exec(url.pathname);
  if (recipe) return req.method === 'GET' ? sendRecipe(recipe[1]!, Number(recipe[2]), url, dispatcher, reply) : reply.deny(405, 'use GET');
  const m = /^\/api\/download\/(csv|model)\/(\d+)$/.exec(url.pathname);
  if (!m) return reply.deny(404, 'no such download');
  if (req.method !== 'GET') return reply.deny(405, 'use GET');
  const answer = await dispatcher.dispatch({ id: 0, method: m[1] === 'csv' ? 'exportRunCsv' : 'exportModel', params: { runId: Number(m[2]) } });
  if (!answer.ok) return reply.json(HTTP_STATUS_OF[answer.error.code] ?? 409, { error: answer.error });
  const file = answer.result as ExportFile;
  sendAttachment(reply, file, exportFileBytes(file));
}

/** The built interface; a path without a file is a client-side route, which the single page answers. */
function sendRenderer(req: IncomingMessage, url: URL, rendererDir: string, reply: Reply): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply.deny(405, 'use GET');
  if (!rendererBuilt(rendererDir)) {
    reply.res.writeHead(200, { ...reply.headers, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    reply.res.end(NOT_BUILT_PAGE(rendererDir));
    return;
  }
  const file =
    resolveStatic(rendererDir, url.pathname === '/' ? '/index.html' : url.pathname) ??
    (path.extname(url.pathname) ? undefined : path.join(rendererDir, 'index.html'));
  if (!file) return reply.deny(404, 'not found');
  sendFile(reply.res, file, reply.headers);
}

/** The API over WebSocket: each connection gets the dispatcher's answers and events; dead ones are dropped. */
function serveWebSocket(wss: WebSocketServer, dispatcher: ApiDispatcher): () => void {
  const alive = new WeakMap<WebSocket, boolean>();
  wss.on('connection', (ws: WebSocket) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    const send = (msg: WireResponse | unknown) => {
      if (ws.readyState === ws.OPEN) ws.send(encodeWire(msg));
    };
    const unsubscribe = dispatcher.subscribe(send);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return send({ id: null, ok: false, error: { code: 'invalid-params', message: 'malformed request: send JSON text' } });
      let raw: unknown;
      try {
        raw = decodeWire(data.toString());
      } catch {
        return send({ id: null, ok: false, error: { code: 'invalid-params', message: 'malformed request: not JSON' } });
      }
      void dispatcher.dispatch(raw).then(send);
    });
    ws.on('close', unsubscribe);
    ws.on('error', unsubscribe);
  });
  // Drop connections that stopped answering (a laptop that slept, a killed tab).
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, 30_000);
  pinger.unref();
  return () => clearInterval(pinger);
}

export async function startAppServer(options: AppServerOptions): Promise<AppServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(24).toString('base64url');
  const rendererDir = path.resolve(options.rendererDir ?? DEFAULT_RENDERER_DIR);
  const { dispatcher } = options;
  // Uploads wait in the data folder, which the API names like any client would ask.
  const { dataFolder } = (await dispatcher.call('getSettings', {})) as { dataFolder: string };
  const uploads = new UploadStore(path.join(dataFolder, 'uploads'));
  uploads.pruneOld();

  const server = createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes ?? 4 * 1024 * 1024 });
  const port = await listen(server, options.port ?? 0, host);
  const guard: GuardConfig = { token, port, allowedHosts: allowedHostsFor(host, isWildcard(host) ? localNames() : []) };
  const baseHeaders = securityHeaders(host, port);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const check = guardRequest({ url: req.url ?? '/', headers: req.headers }, guard);
    if (!check.ok) return new Reply(res, baseHeaders).deny(403, check.reason);
    const url = new URL(req.url ?? '/', `http://${urlHost(host)}:${port}`);
    // Later requests (assets, reloads without ?token=) authenticate with this cookie.
    const cookie: Record<string, string> =
      check.tokenFrom === 'query' ? { 'set-cookie': `${cookieName(port)}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict` } : {};
    const reply = new Reply(res, { ...baseHeaders, ...cookie });
    if (url.pathname === HTTP_ROUTES.upload) return receiveUpload(req, url, uploads, reply);
    if (url.pathname.startsWith(`${HTTP_ROUTES.download}/`)) return sendDownload(req, url, dispatcher, reply);
    if (url.pathname.startsWith('/api/')) return reply.deny(404, 'no such API route');
    sendRenderer(req, url, rendererDir, reply);
  };
  server.on('request', (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) new Reply(res, baseHeaders).deny(500, (err as Error).message);
      else res.destroy();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const check =
      url.pathname === WS_PATH ? guardRequest({ url: req.url ?? '/', headers: req.headers }, guard) : { ok: false as const, reason: 'no WebSocket here' };
    if (!check.ok) {
      const body = `Forbidden: ${check.reason}\n`;
      socket.end(
        `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const stopPinging = serveWebSocket(wss, dispatcher);

  const shownHost = isWildcard(host) ? '127.0.0.1' : host;
  const url = `http://${urlHost(shownHost)}:${port}/?${TOKEN_PARAM}=${encodeURIComponent(token)}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    token,
    port,
    host,
    server,
    close() {
      closing ??= (async () => {
        stopPinging();
        dispatcher.flushEvents();
        for (const ws of wss.clients) ws.close(1001, 'server shutting down');
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        uploads.removeAll();
      })();
      return closing;
    },
  };
}
