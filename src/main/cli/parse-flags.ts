// Strict parsers for command-line values: a bad flag is named with what was expected, before
// anything runs.
import { InvalidArgumentError } from 'commander';
import { MAX_BUDGET_SECONDS, parseDuration } from '../../shared/search-budget.js';

export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}, got "${value}"`);
    }
    return n;
  };
}

export function positiveNumber(maxExclusive = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n >= maxExclusive) {
      throw new InvalidArgumentError(`expected a number above 0${maxExclusive < Infinity ? ` and below ${maxExclusive}` : ''}, got "${value}"`);
    }
    return n;
  };
}

/** "28x28", "28×28", "32,24" or "28" (square) → [height, width]. */
export function imageSize(value: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[x×,]\s*(\d+))?\s*$/i.exec(value);
  const h = m ? Number(m[1]) : NaN;
  const w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || h < 4 || w < 4 || h > 1024 || w > 1024) {
    throw new InvalidArgumentError(`expected HxW between 4x4 and 1024x1024, e.g. 28x28, got "${value}"`);
  }
  return [h, w];
}

export function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got "${value}"`);
    }
    return value as T;
  };
}

export function runId(value: string): number {
  return wholeNumber(1)(value);
}

/** "2GiB", "512MiB", "1.5GB", "800M", "1073741824" → bytes (binary units; GB and GiB alike). */
export function byteSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(value);
  if (!m) throw new InvalidArgumentError(`expected a size such as 2GiB or 512MiB, got "${value}"`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.floor(Number(m[1]) * scale);
  if (!(bytes >= 1024 * 1024)) throw new InvalidArgumentError(`expected at least 1MiB, got "${value}"`);
  return bytes;
}

/** "10m", "90s", "1h30m", "1.5h" or seconds → seconds (above 0, at most a year). */
export function duration(value: string): number {
  const seconds = parseDuration(value);
  if (seconds === null || !(seconds > 0) || seconds > MAX_BUDGET_SECONDS) {
    throw new InvalidArgumentError(`expected a time such as 10m, 90s or 1h30m (above 0, at most a year), got "${value}"`);
  }
  return seconds;
}
