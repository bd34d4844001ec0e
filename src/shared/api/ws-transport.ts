// The client side of the WebSocket transport, written against minimal structural types so it
// runs in the browser (the renderer passes window.WebSocket/fetch) and in Node tests (the `ws`
// package). It reconnects by itself with back-off; calls made while disconnected wait for the
// connection, and calls in flight when it drops fail with code 'disconnected' (they may or may
// not have run: the UI re-reads state when the connection is back).
import { createApiClient, type ClientTransport } from './client.js';
import type { Api, ConnectionState, MethodName, UploadableFile } from './contract.js';
import { HTTP_ROUTES, recipeDownloadPath, TOKEN_PARAM, WS_PATH } from './http-routes.js';
import { ApiError, decodeWire, encodeWire, wireInboundSchema, type WireEvent } from './wire.js';

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

interface FetchResponseLike {
  ok: boolean;
  status: number;
  text(): Promise<string>;
}
export type FetchLike = (
  url: string,
  init: { method: string; body?: unknown; headers?: Record<string, string>; credentials?: 'same-origin' },
) => Promise<FetchResponseLike>;

export interface WebSocketTransportOptions {
  /** http(s)://host:port of the server. */
  baseUrl: string;
  token: string;
  createSocket(url: string): WebSocketLike;
  /** For uploads; the browser's fetch. */
  fetch?: FetchLike;
  /** The upload body of a file (the browser passes the File itself). */
  fileBody?(file: UploadableFile): unknown;
  /** Starts a browser download of this URL (an <a download> click). */
  startDownload?(url: string): void;
  /** First reconnect delay; doubles up to maxReconnectDelayMs. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
}

const OPEN = 1;

interface Pending {
  resolve(result: unknown): void;
  reject(err: unknown): void;
}

export function wsUrlFor(baseUrl: string, token: string): string {
  const u = new URL(WS_PATH, baseUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set(TOKEN_PARAM, token);
  return u.toString();
}

/** One socket at a time, reconnected with back-off; calls wait for it and fail if it drops under them. */
class Connection {
  readonly eventListeners = new Set<(e: WireEvent) => void>();
  readonly connectionListeners = new Set<(s: ConnectionState) => void>();
  private readonly inFlight = new Map<number, Pending>();
  private readonly waiting: { send(): void; reject(err: unknown): void }[] = [];
  private nextId = 1;
  private socket: WebSocketLike | undefined;
  private closed = false;
  private delay: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  state: ConnectionState = 'connecting';

  constructor(private readonly options: WebSocketTransportOptions) {
    this.delay = options.reconnectDelayMs ?? 250;
  }

  private setState(s: ConnectionState): void {
    if (s === this.state) return;
    this.state = s;
    for (const l of this.connectionListeners) l(s);
  }

  connect(): void {
    if (this.closed) return;
    this.setState('connecting');
    const ws = this.options.createSocket(wsUrlFor(this.options.baseUrl, this.options.token));
    this.socket = ws;
    ws.onopen = () => {
      this.delay = this.options.reconnectDelayMs ?? 250;
      this.setState('open');
      for (const w of this.waiting.splice(0)) w.send();
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onerror = () => {
      // onclose follows and handles it.
    };
    ws.onclose = () => this.dropped(ws);
  }

  private receive(data: unknown): void {
    let parsed;
    try {
      parsed = wireInboundSchema.safeParse(decodeWire(String(data)));
    } catch {
      return; // not JSON: nothing we can do with it
    }
    if (!parsed.success) return;
    const msg = parsed.data;
    if ('event' in msg) {
      for (const l of this.eventListeners) l(msg);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.inFlight.get(msg.id);
    if (!p) return;
    this.inFlight.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new ApiError(msg.error));
  }

  private dropped(ws: WebSocketLike): void {
    if (this.socket === ws) this.socket = undefined;
    for (const [, p] of this.inFlight)
      p.reject(new ApiError({ code: 'disconnected', message: 'the connection to the server was lost; the request may not have completed' }));
    this.inFlight.clear();
    if (this.closed) {
      this.setState('closed');
      return;
    }
    this.setState('connecting');
    this.timer = setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, this.options.maxReconnectDelayMs ?? 5000);
  }

  call(method: MethodName, params: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new ApiError({ code: 'disconnected', message: 'the API client is closed' }));
      const send = () => {
        const id = this.nextId++;
        this.inFlight.set(id, { resolve, reject });
        try {
          this.socket!.send(encodeWire({ id, method, params }));
        } catch (err) {
          this.inFlight.delete(id);
          reject(new ApiError({ code: 'disconnected', message: `could not send: ${(err as Error).message}` }));
        }
      };
      if (this.socket && this.socket.readyState === OPEN) send();
      else this.waiting.push({ send, reject });
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.waiting.splice(0)) w.reject(new ApiError({ code: 'disconnected', message: 'the API client is closed' }));
    this.socket?.close(1000, 'client closed');
    this.setState('closed');
  }
}

/** Sends one file (a POST of its bytes) into an upload; the server's answer names the upload and its source. */
async function uploadFile(
  options: WebSocketTransportOptions,
  fetch: FetchLike,
  file: UploadableFile,
  upload: string | undefined,
): Promise<{ upload: string; source: string }> {
  const rel = file.webkitRelativePath || file.name;
  const q = new URLSearchParams({ path: rel, [TOKEN_PARAM]: options.token });
  if (upload) q.set('upload', upload);
  const res = await fetch(`${new URL(HTTP_ROUTES.upload, options.baseUrl).toString()}?${q.toString()}`, {
    method: 'POST',
    body: options.fileBody ? options.fileBody(file) : file,
    headers: { 'content-type': 'application/octet-stream' },
    credentials: 'same-origin',
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const message = (body as { error?: { message?: string } } | undefined)?.error?.message ?? `upload failed (HTTP ${res.status}): ${text.slice(0, 200)}`;
    throw new ApiError({ code: res.status === 413 ? 'rejected' : 'invalid-params', field: 'files', message });
  }
  return body as { upload: string; source: string };
}

/** Sends the files one by one into one upload folder on the server; resolves with its `source` for importDataset. */
function uploader(options: WebSocketTransportOptions, fetch: FetchLike): NonNullable<ClientTransport['upload']> {
  return async (files, onProgress) => {
    if (files.length === 0) throw new ApiError({ code: 'invalid-params', field: 'files', message: 'choose at least one file' });
    const total = files.reduce((s, f) => s + f.size, 0);
    let sent = 0;
    let answer: { upload: string; source: string } | undefined;
    for (const file of files) {
      answer = await uploadFile(options, fetch, file, answer?.upload);
      sent += file.size;
      onProgress?.(sent, total);
    }
    return { source: answer!.source };
  };
}

export function createWebSocketTransport(options: WebSocketTransportOptions): ClientTransport {
  const connection = new Connection(options);
  const transport: ClientTransport = {
    capabilities: { transport: 'websocket', nativeDialogs: false, upload: Boolean(options.fetch), dropPaths: false },
    call: (method, params) => connection.call(method, params),
    subscribe(listener) {
      connection.eventListeners.add(listener);
      return () => connection.eventListeners.delete(listener);
    },
    onConnection(listener) {
      connection.connectionListeners.add(listener);
      listener(connection.state);
      return () => connection.connectionListeners.delete(listener);
    },
    close: () => connection.close(),
  };
  if (options.fetch) transport.upload = uploader(options, options.fetch);
  if (options.startDownload) {
    const start = options.startDownload;
    const authQuery = `${TOKEN_PARAM}=${encodeURIComponent(options.token)}`;
    transport.download = async ({ runId, kind }) => {
      start(`${new URL(`${HTTP_ROUTES.download}/${kind}/${runId}`, options.baseUrl).toString()}?${authQuery}`);
      return { path: null };
    };
    transport.downloadRecipe = async (p) => {
      start(`${new URL(recipeDownloadPath(p), options.baseUrl).toString()}&${authQuery}`);
      return { path: null };
    };
  }
  connection.connect();
  return transport;
}

/** An Api over WebSocket. */
export function createWebSocketApi(options: WebSocketTransportOptions): Api {
  return createApiClient(createWebSocketTransport(options));
}
