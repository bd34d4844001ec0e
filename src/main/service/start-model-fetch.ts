// Reading a start model's files, from disk or from an http(s) address, within size limits and
// (for addresses) a time limit, with errors that say what went wrong in a user's words: the file
// is not there, the server refused the connection or did not answer, answered 404, sent too much.
import { readFileSync, statSync } from 'node:fs';
import { formatBytes } from '../../shared/format.js';
import { UserError } from './errors.js';

/** The field a failure to read the source is reported on. */
export const SOURCE_FIELD = 'startFrom.source';

export interface FetchLimits {
  /** How long one file may take, from the request to its last byte. */
  timeoutMs: number;
  maxBytes: number;
}

/** A local file's bytes; `what` names it in messages ("model.json", "weights file a.bin"). */
export function readLocalFile(file: string, maxBytes: number, what: string): Buffer {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new UserError(`${file} is not a file (${what})`, SOURCE_FIELD);
    size = stat.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read ${what} ${file}: ${fileErrorText(err)}`, SOURCE_FIELD);
  }
  if (size > maxBytes)
    throw new UserError(`${what} ${file} is ${formatBytes(size)}, more than the ${formatBytes(maxBytes)} a start model may have`, SOURCE_FIELD);
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UserError(`cannot read ${what} ${file}: ${fileErrorText(err)}`, SOURCE_FIELD);
  }
}

export function fileErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return (err as Error).message;
}

/** The bytes at an http(s) address, or a UserError saying why not. */
export async function fetchBytes(url: URL, limits: FetchLimits, what: string): Promise<Buffer> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, limits.timeoutMs);
  try {
    const response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new UserError(`${url.href} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} (${what})`, SOURCE_FIELD);
    }
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge(url, what, limits.maxBytes);
    }
    return await readCapped(response, url, what, limits.maxBytes, controller);
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (timedOut) throw new UserError(`${url.href} did not answer within ${formatSeconds(limits.timeoutMs)} (${what})`, SOURCE_FIELD);
    throw new UserError(`could not fetch ${url.href} (${what}): ${networkErrorText(err, url)}`, SOURCE_FIELD);
  } finally {
    clearTimeout(timer);
  }
}

async function readCapped(response: Response, url: URL, what: string, maxBytes: number, controller: AbortController): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      controller.abort();
      throw tooLarge(url, what, maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function tooLarge(url: URL, what: string, maxBytes: number): UserError {
  return new UserError(`${url.href} (${what}) is larger than the ${formatBytes(maxBytes)} a start model may have`, SOURCE_FIELD);
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toPrecision(3))} s` : `${ms} ms`;
}

/** Node's fetch says only "fetch failed"; the reason is in its cause. */
function networkErrorText(err: unknown, url: URL): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return `the connection to ${url.host} was refused (is a server listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `no host named ${url.hostname} was found`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `${url.host} closed the connection`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${url.host} cannot be reached from this machine`;
    default:
      return cause?.message ?? (err as Error).message;
  }
}
