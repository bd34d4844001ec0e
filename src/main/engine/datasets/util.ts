import path from 'node:path';
import type { ImportProgress } from '../../../shared/dataset-types.js';

/** Runs fn over items with at most `limit` running at once; resolves when all are done. */
export async function mapPool<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  let hasFailed = false;
  const worker = async (): Promise<void> => {
    while (!hasFailed) {
      const i = next++;
      if (i >= items.length) return;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        if (!hasFailed) {
          hasFailed = true;
          failed = err;
        }
      }
    }
  };
  const n = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: n }, () => worker()));
  if (hasFailed) throw failed;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A plain decimal number (no hex, no NaN/Infinity, no empty string); surrounding spaces allowed. */
export function parseNumber(text: string): number | undefined {
  const s = text.trim();
  if (!NUMBER_RE.test(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** Class names sorted: numerically when all are numbers, else by code unit. */
export function sortClassNames(names: string[]): string[] {
  const nums = names.map((n) => parseNumber(n));
  if (names.length > 0 && nums.every((v) => v !== undefined)) {
    return names
      .map((n, i) => ({ n, v: nums[i]! }))
      .sort((a, b) => a.v - b.v || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0))
      .map((e) => e.n);
  }
  return names.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Relative path with forward slashes, for problem reports. */
export function relPosix(from: string, to: string): string {
  const r = path.relative(from, to);
  return (r === '' ? path.basename(to) : r).split(path.sep).join('/');
}

/** Calls onProgress at most about 100 times per phase (and always for the last step). */
export function progressReporter(onProgress: ((p: ImportProgress) => void) | undefined) {
  let lastPhase = '';
  let lastDone = -1;
  return (phase: ImportProgress['phase'], done: number, total: number): void => {
    if (!onProgress) return;
    const step = Math.max(1, Math.floor(total / 100));
    if (phase === lastPhase && done !== total && done - lastDone < step) return;
    lastPhase = phase;
    lastDone = done;
    try {
      onProgress({ phase, done, total });
    } catch {
      // a failing listener must not break the import
    }
  };
}
