// Module loader hook of record-loads: each ES module file, as it is loaded (runs in the loader
// thread, which sees the same environment).
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const out = process.env.AUTOBATCH_RECORD_LOADS_FILE;

export async function load(url: string, context: unknown, next: (url: string, context: unknown) => Promise<unknown>): Promise<unknown> {
  if (out && url.startsWith('file:')) appendFileSync(out, fileURLToPath(url) + '\n');
  return next(url, context);
}
