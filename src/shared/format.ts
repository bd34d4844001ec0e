// Counts as people read them, the same in every front end (CLI, app, the tuning chart SVG and the
// tuner's reasoning): bytes in binary units (KiB, MiB, GiB, TiB) with three significant digits,
// parameter counts in decimal ones (k, M), and "3 files". Pure; no Node or DOM.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 512 → "512 B"; 1536 → "1.50 KiB"; 3.6 GiB → "3.60 GiB"; null, NaN, ±∞ → "—". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  let digits = u === 0 ? 0 : 2;
  // Three significant digits of the rounded value (9.996 → "10.0", 99.96 → "100").
  while (digits > 0 && Number(v.toFixed(digits)) >= 10 ** (3 - digits)) digits--;
  // Rounding may carry into the next unit (1023.7 KiB → "1024 KiB"): say "1.00 MiB" instead.
  if (u < BYTE_UNITS.length - 1 && Number(v.toFixed(digits)) >= 1024) {
    v /= 1024;
    u++;
    digits = 2;
  }
  return `${bytes < 0 ? '-' : ''}${v.toFixed(digits)} ${BYTE_UNITS[u]}`;
}

/** "1 file", "3 files", "1,200 rows". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

const COUNT_UNITS = ['', ' k', ' M', ' G'] as const;

/** Parameter counts: 950 → "950"; 272 474 → "272 k"; 2 236 682 → "2.24 M"; 11 181 642 → "11.2 M"; null → "—". */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1000 && u < COUNT_UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  if (u === 0) return String(Math.round(n));
  let digits = 2;
  while (digits > 0 && Number(v.toFixed(digits)) >= 10 ** (3 - digits)) digits--;
  // 999 950 rounds to "1000 k": say "1.00 M".
  if (u < COUNT_UNITS.length - 1 && Number(v.toFixed(digits)) >= 1000) {
    v /= 1000;
    u++;
    digits = 2;
  }
  return `${n < 0 ? '-' : ''}${v.toFixed(digits)}${COUNT_UNITS[u]}`;
}

/** A model's input as people read it: [28, 28, 1] → "28×28×1"; [13] → "13 features". */
export function formatInputShape(inputShape: readonly number[]): string {
  return inputShape.length === 1 ? plural(inputShape[0]!, 'feature') : inputShape.join('×');
}

/** 75 → "1 min 15 s"; 3725 → "1 h 2 min"; 8.4 → "8.4 s"; 0.042 → "0.04 s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  // Under ten seconds a tenth still says something (a Quick search takes about one); under a
  // tenth, a hundredth (a search's allowance on a short run).
  if (seconds < 0.095) return `${seconds.toFixed(2)} s`;
  if (seconds < 9.95) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}
