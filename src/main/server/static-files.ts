// Serves the built renderer (Vite's output in dist/renderer): files by extension, never
// outside the folder, index.html for client-side routes; a clear page when it is not built.
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The file under `root` that `urlPath` names, or undefined when it would leave root or is not a file. */
export function resolveStatic(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const file = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
  const rel = path.relative(root, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

export const NOT_BUILT_PAGE = (rendererDir: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AutoBatch Studio — not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}code{background:#eee;padding:.1em .3em}</style></head>
<body><h1>The AutoBatch Studio interface is not built</h1>
<p>The server is running and its API works, but there is no interface to show: <code>${rendererDir.replace(/[<>&]/g, '')}</code> has no <code>index.html</code>.</p>
<p>Build it with <code>npm run build</code> in the project folder, then reload this page.</p></body></html>`;

export function rendererBuilt(rendererDir: string): boolean {
  return existsSync(path.join(rendererDir, 'index.html'));
}

export function sendFile(res: ServerResponse, file: string, headers: Record<string, string>): void {
  // Vite's hashed assets (assets/…) never change under their name; everything else may.
  const immutable = file.split(path.sep).includes('assets') && !file.endsWith('.html');
  res.writeHead(200, {
    ...headers,
    'content-type': contentType(file),
    'content-length': String(statSync(file).size),
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  createReadStream(file).pipe(res);
}
