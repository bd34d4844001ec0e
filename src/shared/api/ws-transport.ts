// The client side of the WebSocket transport, written against minimal structural types so it
// runs in the browser (the renderer passes window.WebSocket/fetch) and in Node tests (the `ws`
// package). It reconnects by itself with back-off; calls made while disconnected wait for the
// connection, and calls in flight when it drops fail with code 'disconnected' (they may or may
// not have run: the UI re-reads state when the connection is back).
import { createApiClient, type ClientTransport } from './client.js';
import type { Api, ConnectionState, MethodName, UploadableFile } from './contract.js';
import { HTTP_ROUTES, TOKEN_PARAM, WS_PATH } from './http-routes.js';
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

export function createWebSocketTransport(options: WebSocketTransportOptions): ClientTransport {
  const eventListeners = new Set<(e: WireEvent) => void>();
  const connectionListeners = new Set<(s: ConnectionState) => void>();
  const inFlight = new Map<number, Pending>();
  const waiting: { send(): void; reject(err: unknown): void }[] = [];
  let nextId = 1;
  let socket: WebSocketLike | undefined;
  let closed = false;
  let delay = options.reconnectDelayMs ?? 250;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let state: ConnectionState = 'connecting';

  const setState = (s: ConnectionState) => {
    if (s === state) return;
    state = s;
    for (const l of connectionListeners) l(s);
  };

  const connect = () => {
    if (closed) return;
    setState('connecting');
    const ws = options.createSocket(wsUrlFor(options.baseUrl, options.token));
    socket = ws;
    ws.onopen = () => {
      delay = options.reconnectDelayMs ?? 250;
      setState('open');
      for (const w of waiting.splice(0)) w.send();
    };
    ws.onmessage = (ev) => {
      let parsed;
      try {
        parsed = wireInboundSchema.safeParse(decodeWire(String(ev.data)));
      } catch {
        return; // not JSON: nothing we can do with it
      }
      if (!parsed.success) return;
      const msg = parsed.data;
      if ('event' in msg) {
        for (const l of eventListeners) l(msg);
        return;
      }
      if (typeof msg.id !== 'number') return;
      const p = inFlight.get(msg.id);
      if (!p) return;
      inFlight.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new ApiError(msg.error));
    };
    ws.onerror = () => {
      // onclose follows and handles it.
    };
    ws.onclose = () => {
      if (socket === ws) socket = undefined;
      for (const [, p] of inFlight)
        p.reject(new ApiError({ code: 'disconnected', message: 'the connection to the server was lost; the request may not have completed' }));
      inFlight.clear();
      if (closed) {
        setState('closed');
        return;
      }
      setState('connecting');
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, options.maxReconnectDelayMs ?? 5000);
    };
  };

  const authQuery = `${TOKEN_PARAM}=${encodeURIComponent(options.token)}`;

  const transport: ClientTransport = {
    capabilities: { transport: 'websocket', nativeDialogs: false, upload: Boolean(options.fetch), dropPaths: false },
    call(method: MethodName, params: unknown) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(new ApiError({ code: 'disconnected', message: 'the API client is closed' }));
        const send = () => {
          const id = nextId++;
          inFlight.set(id, { resolve, reject });
          try {
            socket!.send(encodeWire({ id, method, params }));
          } catch (err) {
            inFlight.delete(id);
            reject(new ApiError({ code: 'disconnected', message: `could not send: ${(err as Error).message}` }));
          }
        };
        if (socket && socket.readyState === OPEN) send();
        else waiting.push({ send, reject });
      });
    },
    subscribe(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      listener(state);
      return () => connectionListeners.delete(listener);
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of waiting.splice(0)) w.reject(new ApiError({ code: 'disconnected', message: 'the API client is closed' }));
      socket?.close(1000, 'client closed');
      setState('closed');
    },
  };

  if (options.fetch) {
    const fetch = options.fetch;
    transport.upload = async (files, onProgress) => {
      if (files.length === 0) throw new ApiError({ code: 'invalid-params', field: 'files', message: 'choose at least one file' });
      const total = files.reduce((s, f) => s + f.size, 0);
      let sent = 0;
      let upload: string | undefined;
      let source: string | undefined;
      for (const file of files) {
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
        const ok = body as { upload: string; source: string };
        upload = ok.upload;
        source = ok.source;
        sent += file.size;
        onProgress?.(sent, total);
      }
      return { source: source! };
    };
  }
  if (options.startDownload) {
    const start = options.startDownload;
    transport.download = async ({ runId, kind }) => {
      start(`${new URL(`${HTTP_ROUTES.download}/${kind}/${runId}`, options.baseUrl).toString()}?${authQuery}`);
      return { path: null };
    };
  }

  connect();
  return transport;
}

/** An Api over WebSocket. */
export function createWebSocketApi(options: WebSocketTransportOptions): Api {
  return createApiClient(createWebSocketTransport(options));
}
