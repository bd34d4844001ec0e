// Browser uploads for dataset import: one POST per file (the raw bytes; no multipart parsing),
// written under <data folder>/uploads/<id>/<relative path>. Relative paths are checked segment
// by segment — no '..', no absolute paths, no drive letters or backslashes — and sizes are
// capped per file and per upload. The answer names the `source` to import: the uploaded folder
// (a folder chosen with webkitdirectory keeps its name) or the single uploaded file.
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { UPLOAD_LIMITS } from '../../shared/api/index.js';
import { formatBytes } from '../../shared/format.js';

export class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field = 'path',
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

// Printable names without characters that are unsafe or reserved on some file system.
// eslint-disable-next-line no-control-regex
const BAD_SEGMENT = /[\\/:*?"<>|\x00-\x1f]/;

/** Splits and checks a browser-relative path ('digits/3/a.png'); throws UploadError if unsafe. */
export function sanitizeRelativePath(raw: string | null | undefined): string[] {
  if (!raw) throw new UploadError(400, "path: missing (the file's relative path)");
  if (raw.length > UPLOAD_LIMITS.maxPathLength) throw new UploadError(400, 'path: too long');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || raw.startsWith('\\')) throw new UploadError(400, 'path: absolute paths are not accepted');
  const segments = raw.split('/');
  if (segments.length > UPLOAD_LIMITS.maxDepth) throw new UploadError(400, `path: deeper than ${UPLOAD_LIMITS.maxDepth} folders`);
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') throw new UploadError(400, `path: "${raw.slice(0, 200)}" has an empty, "." or ".." part`);
    if (BAD_SEGMENT.test(s)) throw new UploadError(400, `path: "${s.slice(0, 100)}" contains a character that is not allowed in file names`);
    if (s.length > 255) throw new UploadError(400, 'path: a name is longer than 255 characters');
  }
  return segments;
}

interface UploadState {
  dir: string;
  files: string[][];
  bytes: number;
  lastUsed: number;
}

export class UploadStore {
  private readonly uploads = new Map<string, UploadState>();

  constructor(readonly root: string) {}

  /** Deletes uploads older than `maxAgeMs` left by earlier servers. */
  pruneOld(maxAgeMs = 24 * 3600 * 1000): void {
    if (!existsSync(this.root)) return;
    for (const name of readdirSync(this.root)) {
      const full = path.join(this.root, name);
      try {
        if (Date.now() - statSync(full).mtimeMs > maxAgeMs) rmSync(full, { recursive: true, force: true });
      } catch {
        // in use or gone: leave it
      }
    }
  }

  /** Writes one request body to the upload (a new one when `uploadId` is absent). */
  async receive(req: IncomingMessage, uploadId: string | null, relPath: string | null): Promise<{ upload: string; source: string }> {
    const segments = sanitizeRelativePath(relPath);
    let id = uploadId;
    let state: UploadState | undefined;
    if (id === null) {
      id = randomBytes(16).toString('hex');
      state = { dir: path.join(this.root, id), files: [], bytes: 0, lastUsed: Date.now() };
      mkdirSync(state.dir, { recursive: true });
      this.uploads.set(id, state);
    } else {
      if (!/^[0-9a-f]{32}$/.test(id)) throw new UploadError(400, 'upload: not an upload id', 'upload');
      state = this.uploads.get(id);
      if (!state) throw new UploadError(404, 'upload: unknown or expired upload id', 'upload');
    }
    if (state.files.length >= UPLOAD_LIMITS.maxFiles) throw new UploadError(413, `files: at most ${UPLOAD_LIMITS.maxFiles} files per upload`, 'files');
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > UPLOAD_LIMITS.maxFileBytes)
      throw new UploadError(413, `files: ${segments.join('/')} is larger than ${formatBytes(UPLOAD_LIMITS.maxFileBytes)}`, 'files');
    const target = path.join(state.dir, ...segments);
    const rel = path.relative(state.dir, target);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UploadError(400, 'path: leaves the upload folder');
    if (existsSync(target)) throw new UploadError(409, `path: ${segments.join('/')} was already uploaded`);
    mkdirSync(path.dirname(target), { recursive: true });
    await this.writeBody(req, target, state);
    state.files.push(segments);
    state.lastUsed = Date.now();
    return { upload: id, source: this.sourceOf(state) };
  }

  private writeBody(req: IncomingMessage, target: string, state: UploadState): Promise<void> {
    return new Promise((resolve, reject) => {
      let bytes = 0;
      let failed = false;
      const out = createWriteStream(target, { flags: 'wx' });
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        req.unpipe(out);
        out.destroy();
        rmSync(target, { force: true });
        reject(err);
      };
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > UPLOAD_LIMITS.maxFileBytes) fail(new UploadError(413, `files: a file is larger than ${formatBytes(UPLOAD_LIMITS.maxFileBytes)}`, 'files'));
        else if (state.bytes + bytes > UPLOAD_LIMITS.maxUploadBytes)
          fail(new UploadError(413, `files: the upload is larger than ${formatBytes(UPLOAD_LIMITS.maxUploadBytes)}`, 'files'));
      });
      req.on('error', fail);
      req.on('aborted', () => fail(new UploadError(400, 'files: the upload was interrupted', 'files')));
      out.on('error', fail);
      out.on('finish', () => {
        if (failed) return;
        state.bytes += bytes;
        resolve();
      });
      req.pipe(out);
    });
  }

  /** One top folder → that folder; one file → that file; otherwise the upload folder. */
  private sourceOf(state: UploadState): string {
    if (state.files.length === 1 && state.files[0]!.length === 1) return path.join(state.dir, state.files[0]![0]!);
    const tops = new Set(state.files.map((f) => f[0]));
    if (tops.size === 1 && state.files.every((f) => f.length > 1)) return path.join(state.dir, [...tops][0]!);
    return state.dir;
  }

  /** Removes this server's uploads (their datasets were copied into the cache at import). */
  removeAll(): void {
    for (const s of this.uploads.values()) rmSync(s.dir, { recursive: true, force: true });
    this.uploads.clear();
  }
}
