// Numbers as people read them: accuracies as percentages (durations and bytes: formatDuration
// and formatBytes in src/shared/format.ts, shared with the CLI and the tuner's report). Pure functions
// (unit-tested from test/unit/renderer).

export { formatDuration } from '../../shared/format.js';

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
