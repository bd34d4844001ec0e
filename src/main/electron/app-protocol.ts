// The app:// protocol the desktop window loads the renderer from (not file://, so the page has
// a real origin, a CSP header and no access to the file system by URL). The handler maps
// app://app/<path> onto the built renderer folder and refuses anything outside it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { contentSecurityPolicy } from '../../shared/csp.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'app';
const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** For protocol.registerSchemesAsPrivileged (before app ready): a standard, secure origin. */
export const PRIVILEGED_SCHEMES = [{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true } }];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

export const APP_CSP = contentSecurityPolicy();

/** The file under `root` for an app:// URL, or undefined when it is not ours or leaves root. */
export function appUrlToFile(root: string, url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return undefined;
  let p: string;
  try {
    p = decodeURIComponent(u.pathname);
  } catch {
    return undefined;
  }
  if (p.includes('\0')) return undefined;
  const file = path.resolve(root, '.' + path.posix.normalize('/' + (p === '/' ? 'index.html' : p)));
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return file;
}

/** A protocol.handle handler serving `root`, with the CSP on every answer. */
export function createAppProtocolHandler(root: string, read: (file: string) => Promise<Uint8Array> = readFile): (request: Request) => Promise<Response> {
  const headers = (type: string) => ({ 'content-type': type, 'content-security-policy': APP_CSP, 'x-content-type-options': 'nosniff' });
  return async (request) => {
    const file = appUrlToFile(root, request.url);
    if (!file) return new Response('not found', { status: 404, headers: headers('text/plain') });
    try {
      const body = await read(file);
      return new Response(body, { status: 200, headers: headers(TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream') });
    } catch {
      // Client-side routes have no file: the single page answers them.
      if (!path.extname(file)) {
        try {
          return new Response(await read(path.join(root, 'index.html')), { status: 200, headers: headers(TYPES['.html']!) });
        } catch {
          // fall through
        }
      }
      return new Response('not found', { status: 404, headers: headers('text/plain') });
    }
  };
}
