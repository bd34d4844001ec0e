// Numbers as people read them: durations in minutes and seconds, accuracies as percentages
// (bytes: formatBytes in src/shared/format.ts, shared with the CLI). Pure functions
// (unit-tested from test/unit/renderer).

/** 75 → "1 min 15 s"; 3725 → "1 h 2 min"; 8.4 → "8 s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  // Under ten seconds a tenth still says something (a Quick search takes about one).
  if (seconds < 9.95) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(digits)} %`;
}

/** Plain numbers with at most 3 significant decimals and thousands separators. */
export function formatNumber(value: number | null | undefined, maxDecimals = 2): string {
  if (value === null || value === undefined) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  return value.toLocaleString('en-US', { maximumFractionDigits: maxDecimals });
}

/** Learning rates and losses: 0.00141 → "1.41e-3", 0.25 → "0.25". */
export function formatSmall(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (value !== 0 && Math.abs(value) < 0.01) return value.toExponential(2).replace(/e-0?/, 'e-');
  return formatNumber(value, 4);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export { plural } from '../../shared/format.js';
