// Seeded, stratified sampling: the train/validation split and options.limit.

// The PRNG and shuffle are the app's shared ones, so a seed means the same thing everywhere.
import { createRng as mulberry32, shuffleInPlace } from '../../../shared/random.js';

/** Sample indices of each class, in index order. */
export function indicesByClass(y: ArrayLike<number>, numClasses: number): Uint32Array[] {
  const counts = new Uint32Array(numClasses);
  for (let i = 0; i < y.length; i++) counts[y[i]!]!++;
  const out = Array.from(counts, (c) => new Uint32Array(c));
  const fill = new Uint32Array(numClasses);
  for (let i = 0; i < y.length; i++) {
    const k = y[i]!;
    out[k]![fill[k]!++] = i;
  }
  return out;
}

/** Smallest limit that keeps two samples of every class (one for training, one for validation). */
export function minimumLimit(classCounts: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < classCounts.length; k++) s += Math.min(classCounts[k]!, 2);
  return s;
}

/**
 * How many samples of each class to keep so that they add up to `limit`: proportional to the
 * class counts (largest remainder), each class keeping at least min(count, 2).
 * Expects limit >= minimumLimit(counts).
 */
export function stratifiedQuota(counts: ArrayLike<number>, limit: number): number[] {
  const K = counts.length;
  let total = 0;
  for (let k = 0; k < K; k++) total += counts[k]!;
  if (limit >= total) return Array.from(counts);
  const exact = Array.from(counts, (c) => (limit * c) / total);
  const q = Array.from(counts, (c, k) => Math.min(c, Math.max(Math.min(c, 2), Math.floor(exact[k]!))));
  let sum = q.reduce((a, b) => a + b, 0);
  const order = [...Array(K).keys()].sort((a, b) => exact[b]! - Math.floor(exact[b]!) - (exact[a]! - Math.floor(exact[a]!)) || a - b);
  while (sum < limit) {
    let grew = false;
    for (const k of order) {
      if (sum >= limit) break;
      if (q[k]! < counts[k]!) {
        q[k]!++;
        sum++;
        grew = true;
      }
    }
    if (!grew) break;
  }
  while (sum > limit) {
    let best = -1;
    for (let k = 0; k < K; k++) if (q[k]! > 2 && (best < 0 || q[k]! > q[best]!)) best = k;
    if (best < 0) break;
    q[best]!--;
    sum--;
  }
  return q;
}

/** At most `limit` sample indices, stratified by class, chosen with the seed; sorted ascending. */
export function stratifiedSubset(y: ArrayLike<number>, numClasses: number, limit: number, seed: number): Uint32Array {
  const byClass = indicesByClass(y, numClasses);
  const quota = stratifiedQuota(
    byClass.map((c) => c.length),
    limit,
  );
  const rand = mulberry32(seed ^ 0x51ed270b);
  const kept: number[] = [];
  byClass.forEach((idx, k) => {
    const copy = idx.slice();
    shuffleInPlace(copy, rand);
    for (let i = 0; i < quota[k]!; i++) kept.push(copy[i]!);
  });
  return Uint32Array.from(kept).sort();
}

/** Validation samples for a class of n samples: round(n·f), at least 1 (when f > 0) and at most n − 1. */
export function validationShare(n: number, fraction: number): number {
  if (n < 2 || fraction <= 0) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
}

interface SplitIndices {
  train: Uint32Array;
  validation: Uint32Array;
}

/** Stratified train/validation split, deterministic per seed; both lists sorted ascending. */
export function stratifiedSplit(y: ArrayLike<number>, numClasses: number, fraction: number, seed: number): SplitIndices {
  const byClass = indicesByClass(y, numClasses);
  const rand = mulberry32(seed);
  const train: number[] = [];
  const validation: number[] = [];
  for (const idx of byClass) {
    const copy = idx.slice();
    shuffleInPlace(copy, rand);
    const nVal = validationShare(copy.length, fraction);
    for (let i = 0; i < copy.length; i++) (i < nVal ? validation : train).push(copy[i]!);
  }
  return { train: Uint32Array.from(train).sort(), validation: Uint32Array.from(validation).sort() };
}
