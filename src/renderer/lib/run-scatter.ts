// The Runs screen's "settings against results" chart: each finished run as one point, a setting
// (batch size, learning rate or model) across, its best validation accuracy or its training time
// up. Pure data preparation (unit-tested); charts.ts draws it with uPlot.
import { formatDuration, plural } from '../../shared/format.js';
import { formatPercent, formatSmall } from './format.js';
import type { RunRow } from './runs-table.js';

export const COMPARE_BY = ['batchSize', 'learningRate', 'model'] as const;
export type CompareBy = (typeof COMPARE_BY)[number];
export const COMPARE_BY_LABELS: Record<CompareBy, string> = { batchSize: 'Batch size', learningRate: 'Learning rate', model: 'Model' };

export const SCATTER_Y = ['accuracy', 'time'] as const;
export type ScatterY = (typeof SCATTER_Y)[number];
export const SCATTER_Y_LABELS: Record<ScatterY, string> = { accuracy: 'Best validation accuracy', time: 'Training time' };

/**
 * Marker shapes, one per model, so that models are told apart without their colour; the glyph
 * stands for the shape in the legend and the table.
 */
export const MARKERS = [
  { shape: 'circle', glyph: '●' },
  { shape: 'square', glyph: '■' },
  { shape: 'triangle', glyph: '▲' },
  { shape: 'diamond', glyph: '◆' },
  { shape: 'cross', glyph: '✕' },
  { shape: 'triangle-down', glyph: '▼' },
  { shape: 'plus', glyph: '✚' },
  { shape: 'ring', glyph: '○' },
] as const;
export type MarkerShape = (typeof MARKERS)[number]['shape'];

/** Runs that ended with something to show: a completed run, or one stopped on purpose. */
const PLOTTED_STATUSES = new Set(['completed', 'stopped']);

export interface ScatterPoint {
  runId: number;
  model: string;
  dataset: string;
  batchSize: number;
  learningRate: number;
  accuracy: number;
  seconds: number | null;
  /** Where it sits across: the setting, or for models its column (1, 2…) spread a little. */
  x: number;
  /** Where it sits up: accuracy (0–1) or seconds. */
  y: number;
  /** Its series: the model's position in `models` (0-based). */
  series: number;
}

export interface RunScatter {
  by: CompareBy;
  y: ScatterY;
  /** One series per model, in name order, each with its own marker. */
  models: { model: string; shape: MarkerShape; glyph: string }[];
  /** The points in x order (uPlot wants its x values sorted). */
  points: ScatterPoint[];
  /** Runs not plotted, by why: '2 failed', '1 without a best validation accuracy'… */
  leftOut: { why: string; count: number }[];
  /** uPlot's aligned columns: x, then per model its runs' y values (null at the other runs' x). */
  data: [number[], ...(number | null)[][]];
}

/** Why a run is not plotted, or null when it is. */
function whyLeftOut(r: RunRow, y: ScatterY): string | null {
  if (!PLOTTED_STATUSES.has(r.status)) return r.status;
  if (r.bestValAccuracy === null || !Number.isFinite(r.bestValAccuracy)) return 'without a best validation accuracy';
  if (y === 'time' && (r.trainSeconds === null || !Number.isFinite(r.trainSeconds))) return 'without a training time';
  return null;
}

/** Models spread their points over ±0.3 of their column, by run id, so that none hides another. */
function modelColumns(points: ScatterPoint[], models: readonly string[]): void {
  models.forEach((model, i) => {
    const mine = points.filter((p) => p.model === model).sort((a, b) => a.runId - b.runId);
    mine.forEach((p, k) => (p.x = i + 1 + (mine.length === 1 ? 0 : -0.3 + (0.6 * k) / (mine.length - 1))));
  });
}

/** The points of `runs` for one choice of axes, and what was left out and why. */
export function runScatter(runs: readonly RunRow[], by: CompareBy, y: ScatterY): RunScatter {
  const kept: RunRow[] = [];
  const why = new Map<string, number>();
  for (const r of runs) {
    const reason = whyLeftOut(r, y);
    if (reason === null) kept.push(r);
    else why.set(reason, (why.get(reason) ?? 0) + 1);
  }
  const names = [...new Set(kept.map((r) => r.model))].sort();
  const models = names.map((model, i) => ({ model, ...MARKERS[i % MARKERS.length]! }));
  const points: ScatterPoint[] = kept.map((r) => ({
    runId: r.id,
    model: r.model,
    dataset: r.datasetName,
    batchSize: r.config.batchSize,
    learningRate: r.config.learningRate,
    accuracy: r.bestValAccuracy!,
    seconds: r.trainSeconds,
    x: by === 'batchSize' ? r.config.batchSize : r.config.learningRate,
    y: y === 'accuracy' ? r.bestValAccuracy! : r.trainSeconds!,
    series: names.indexOf(r.model),
  }));
  if (by === 'model') modelColumns(points, names);
  points.sort((a, b) => a.x - b.x || a.runId - b.runId);
  const columns = models.map((_, s) => points.map((p) => (p.series === s ? p.y : null)));
  return {
    by,
    y,
    models,
    points,
    leftOut: [...why].map(([w, count]) => ({ why: w, count })).sort((a, b) => b.count - a.count || a.why.localeCompare(b.why)),
    data: [points.map((p) => p.x), ...columns],
  };
}

/** "3 runs left out: 2 failed, 1 without a best validation accuracy (only completed and stopped runs with one are plotted)." */
export function leftOutText(s: RunScatter): string {
  const total = s.leftOut.reduce((n, w) => n + w.count, 0);
  if (total === 0) return '';
  const parts = s.leftOut.map((w) => `${w.count} ${w.why}`).join(', ');
  const rule = s.y === 'time' ? 'with a best accuracy and a training time' : 'with a best accuracy';
  return `${plural(total, 'run')} left out: ${parts} (only completed and stopped runs ${rule} are plotted).`;
}

/** The setting's value as the chart and the table show it. */
export function settingText(p: ScatterPoint, by: CompareBy): string {
  if (by === 'batchSize') return String(p.batchSize);
  if (by === 'learningRate') return formatSmall(p.learningRate);
  return p.model;
}

/** One point in words, for the hover legend and the table: "run 12 (small, mnist): 97.1 % in 1m 02s". */
export function pointText(p: ScatterPoint): string {
  return `run ${p.runId} (${p.model}, ${p.dataset}, batch ${p.batchSize}, lr ${formatSmall(p.learningRate)}): ${formatPercent(p.accuracy)} best in ${p.seconds === null ? 'an unknown time' : formatDuration(p.seconds)}`;
}

/** What the chart shows, in a sentence or two: its description for screen readers. */
export function scatterSummary(s: RunScatter): string {
  if (s.points.length === 0) return `No run to plot. ${leftOutText(s)}`.trim();
  const what = `${SCATTER_Y_LABELS[s.y]} of ${plural(s.points.length, 'run')} against ${COMPARE_BY_LABELS[s.by].toLowerCase()}`;
  const legend = s.models.map((m) => `${m.model} as ${m.shape}s`).join(', ');
  // The best run by the quantity shown: the highest accuracy, or the shortest time.
  const best = s.points.reduce((a, b) => (s.y === 'accuracy' ? (b.y > a.y ? b : a) : b.y < a.y ? b : a));
  const bestText = s.y === 'accuracy' ? 'Highest accuracy' : 'Shortest training';
  return `${what}; ${legend}. ${bestText}: ${pointText(best)}. ${leftOutText(s)}`.trim();
}
