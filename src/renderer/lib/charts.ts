// uPlot options for the app's charts: training curves (loss, accuracy), the four Auto-tune
// curves against batch size (log-x, the choice and the memory budget marked) and run comparisons.
// Series that share a chart differ by more than hue (a dash pattern, point markers, or a label
// drawn on the chart), and the legend shows each one's line and marker (legend-swatches.ts).
import type uPlot from 'uplot';
import type { ChartPalette } from './chart-theme.js';
import { formatBytes } from '../../shared/format.js';
import { formatDuration, formatNumber, formatPercent } from './format.js';
import type { StepMark } from './run-events.js';
import { legendSwatchesPlugin } from './legend-swatches.js';
import { seriesDash } from './series-style.js';
import { COMPARE_BY_LABELS, pointText, SCATTER_Y_LABELS, type MarkerShape, type RunScatter } from './run-scatter.js';

export type { StepMark } from './run-events.js';

type Options = Omit<uPlot.Options, 'width' | 'height'>;

function axes(p: ChartPalette, xLabel: string, yLabel: string, yValues?: (v: number) => string): uPlot.Axis[] {
  const common = { stroke: p.axis, grid: { stroke: p.grid, width: 1 }, ticks: { stroke: p.grid, width: 1 } };
  // uPlot passes null for ticks it leaves unlabelled: those stay blank.
  const values = yValues ? { values: (_u: uPlot, vals: (number | null)[]) => vals.map((v) => (v === null ? '' : yValues(v))) } : {};
  return [
    { ...common, label: xLabel, labelSize: 20 },
    { ...common, label: yLabel, labelSize: 20, size: yValues ? 72 : 60, ...values },
  ];
}

const percentAxis = (v: number) => `${Math.round(v * 100)}%`;

/** Dashed vertical lines at the marked steps, each labelled at its top (a resume, a step-down). */
function stepMarksPlugin(p: ChartPalette, marks: () => readonly StepMark[]): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u: uPlot) => {
          const { left, top, width, height } = u.bbox;
          const ctx = u.ctx;
          ctx.save();
          ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
          ctx.strokeStyle = p.muted;
          ctx.fillStyle = p.text;
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
          for (const m of marks()) {
            const x = Math.round(u.valToPos(m.step, 'x', true));
            if (x < left || x > left + width) continue;
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            const w = ctx.measureText(m.label).width;
            const tx = x + 4 * devicePixelRatio + w <= left + width ? x + 4 * devicePixelRatio : x - 4 * devicePixelRatio - w;
            ctx.fillText(m.label, tx, top + 14 * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * Loss or accuracy against step: training per step (a line), validation per epoch (dots joined);
 * `marks` (read at each draw) are the run's events.
 */
export function trainingChartOptions(kind: 'loss' | 'accuracy', p: ChartPalette, marks: () => readonly StepMark[] = () => []): Options {
  const value =
    kind === 'accuracy' ? (v: number | null) => (v === null ? '—' : formatPercent(v)) : (v: number | null) => (v === null ? '—' : formatNumber(v, 4));
  const series: uPlot.Series[] = [
    { label: 'step' },
    { label: 'train', stroke: p.series[0], width: 1.5, spanGaps: true, points: { show: false }, value: (_u, v) => value(v) },
    {
      label: 'validation',
      stroke: p.series[1],
      width: 2,
      dash: seriesDash(1),
      spanGaps: true,
      points: { show: true, size: 7, fill: p.series[1] },
      value: (_u, v) => value(v),
    },
  ];
  return {
    title: kind === 'loss' ? 'Loss' : 'Accuracy',
    scales: { x: { time: false }, y: kind === 'accuracy' ? { range: [0, 1] } : { auto: true } },
    axes: axes(p, 'step', kind, kind === 'accuracy' ? percentAxis : undefined),
    series,
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    plugins: [stepMarksPlugin(p, marks), legendSwatchesPlugin(series)],
  };
}

/** One metric of several runs, against training time (seconds) or step. */
export function compareChartOptions(labels: string[], metric: string, title: string, against: 'time' | 'step', p: ChartPalette): Options {
  const isFraction = /accuracy/.test(metric);
  const xLabel = against === 'time' ? 'seconds of training' : 'step';
  const series: uPlot.Series[] = [
    { label: xLabel, value: (_u, v) => (v === null ? '—' : formatNumber(v, against === 'time' ? 1 : 0)) },
    ...labels.map((label, i) => ({
      label,
      stroke: p.series[i % p.series.length],
      width: 1.75,
      dash: seriesDash(i),
      spanGaps: true,
      points: { show: /val_|epoch_/.test(metric), size: 6 },
      value: (_u: uPlot, v: number | null) => (v === null ? '—' : isFraction ? formatPercent(v) : formatNumber(v, 4)),
    })),
  ];
  return {
    title,
    scales: { x: { time: false }, y: isFraction ? { range: [0, 1] } : { auto: true } },
    axes: axes(p, xLabel, '', isFraction ? percentAxis : undefined),
    series,
    plugins: [legendSwatchesPlugin(series)],
  };
}

export type TuningCurve = 'memory' | 'throughput' | 'efficiency' | 'goodput';

const TUNING_CURVE_TITLES: Record<TuningCurve, string> = {
  memory: 'Memory per step',
  throughput: 'Throughput (samples/s)',
  efficiency: 'Statistical efficiency',
  goodput: 'Goodput (useful samples/s)',
};

/** A vertical line at the chosen batch size (or rate), and for the memory chart the budget as a horizontal line. */
function markersPlugin(
  p: ChartPalette,
  chosen: number | null,
  budget: number | null,
  chosenLabel: (v: number) => string = (v) => `chosen ${v}`,
  /** Where the line's label sits: at its foot, or at its top (a second marker, clear of the first's label). */
  labelAt: 'bottom' | 'top' = 'bottom',
): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u: uPlot) => {
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          ctx.save();
          ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
          if (chosen !== null) {
            const x = Math.round(u.valToPos(chosen, 'x', true));
            if (x >= left && x <= left + width) {
              ctx.strokeStyle = p.accent;
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + height);
              ctx.stroke();
              ctx.fillStyle = p.accent;
              // At the foot of the line (the budget's label sits at the top), on whichever side
              // has room.
              const text = chosenLabel(chosen);
              const w = ctx.measureText(text).width;
              const tx = x + 4 * devicePixelRatio + w <= left + width ? x + 4 * devicePixelRatio : x - 4 * devicePixelRatio - w;
              ctx.fillText(text, tx, labelAt === 'top' ? top + 14 * devicePixelRatio : top + height - 6 * devicePixelRatio);
            }
          }
          if (budget !== null) {
            const y = Math.round(u.valToPos(budget, 'y', true));
            if (y >= top && y <= top + height) {
              ctx.strokeStyle = p.bad;
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
              ctx.beginPath();
              ctx.moveTo(left, y);
              ctx.lineTo(left + width, y);
              ctx.stroke();
              ctx.fillStyle = p.bad;
              const text = `memory budget ${formatBytes(budget)}`;
              // Right-aligned, clear of the y-axis labels.
              ctx.fillText(text, left + width - ctx.measureText(text).width - 4 * devicePixelRatio, y + 14 * devicePixelRatio);
            }
          }
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * One of the four Auto-tune curves against batch size on a log₂ x axis. Series: for memory the
 * measured peak and the fitted line; for the others the measured (or derived) value.
 */
export function tuningChartOptions(
  curve: TuningCurve,
  p: ChartPalette,
  chosen: number | null,
  budget: number | null,
  measuredMemory: { min: number; max: number } | null = null,
  /** Memory chart: draw the fitted line m(B) = a + bB as a second series. */
  withFitted = false,
): Options {
  const dots = { show: true, size: 7 };
  const x: uPlot.Series = { label: 'batch size' };
  let series: uPlot.Series[];
  let yValues: ((v: number) => string) | undefined;
  let range: uPlot.Scale['range'] | undefined;
  if (curve === 'memory') {
    yValues = (v) => formatBytes(v);
    series = [x, { label: 'measured', stroke: p.series[0], width: 2, spanGaps: true, points: dots, value: (_u, v) => (v === null ? '—' : formatBytes(v)) }];
    if (withFitted) {
      series.push({
        label: 'fitted',
        stroke: p.muted,
        width: 1,
        dash: [4, 4],
        spanGaps: true,
        points: { show: false },
        value: (_u, v) => (v === null ? '—' : formatBytes(v)),
      });
    }
    // Keep the budget line in view even when every measured step is far below it: then a log
    // scale, or the measured steps would be a flat line at zero.
    if (budget !== null && measuredMemory && budget > 4 * measuredMemory.max && measuredMemory.min > 0) {
      const loExp = Math.floor(Math.log2(measuredMemory.min));
      const hiExp = Math.ceil(Math.log2(budget * 1.05));
      // At most ~5 labelled powers of two, or they would overlap.
      const every = Math.max(1, Math.ceil((hiExp - loExp) / 5));
      const splits: number[] = [];
      for (let e = hiExp; e >= loExp; e -= every) splits.unshift(2 ** e);
      const [xAxis, yAxis] = axes(p, 'batch size', 'log scale', yValues);
      return {
        title: TUNING_CURVE_TITLES.memory,
        scales: { x: { time: false, distr: 3, log: 2 }, y: { distr: 3, log: 2, range: [2 ** loExp, 2 ** hiExp] } },
        axes: [xAxis!, { ...yAxis!, size: 72, splits: () => splits, filter: (_u, vals) => vals }],
        series,
        plugins: [markersPlugin(p, chosen, budget), legendSwatchesPlugin(series)],
        legend: { live: true },
      };
    }
    range = (_u, min, max) => [0, Math.max(max ?? 0, budget ?? 0, min ?? 0) * 1.08 || 1];
  } else if (curve === 'efficiency') {
    yValues = percentAxis;
    series = [x, { label: 'efficiency', stroke: p.series[2], width: 2, spanGaps: true, points: dots, value: (_u, v) => (v === null ? '—' : formatPercent(v)) }];
    // Relative to the base batch: smaller batches score above 100 %.
    range = (_u, _min, max) => [0, Math.max(1, max ?? 1) * 1.08];
  } else {
    const color = curve === 'throughput' ? p.series[1] : p.series[3];
    yValues = (v) => formatNumber(v, 0);
    series = [
      x,
      {
        label: curve === 'throughput' ? 'samples/s' : 'goodput',
        stroke: color,
        width: 2,
        spanGaps: true,
        points: dots,
        value: (_u, v) => (v === null ? '—' : formatNumber(v, 0)),
      },
    ];
    range = (_u, _min, max) => [0, (max ?? 1) * 1.1 || 1];
  }
  return {
    title: TUNING_CURVE_TITLES[curve],
    scales: { x: { time: false, distr: 3, log: 2 }, y: { range: range! } },
    axes: axes(p, 'batch size', curve === 'memory' ? 'bytes' : '', yValues),
    series,
    plugins: [markersPlugin(p, chosen, curve === 'memory' ? budget : null), legendSwatchesPlugin(series)],
    legend: { live: true },
  };
}

/** Labels a log₁₀ x axis at whole decades only, as 1e-4 … (uPlot's default prints 0 for 1e-4). */
function decadeLabels([x, ...rest]: uPlot.Axis[]): uPlot.Axis[] {
  const label = (v: number | null) => {
    if (v === null || !(v > 0)) return '';
    const e = Math.log10(v);
    return Math.abs(e - Math.round(e)) < 1e-6 ? `1e${Math.round(e)}` : '';
  };
  return [{ ...x!, values: (_u: uPlot, vals: (number | null)[]) => vals.map(label) }, ...rest];
}

/**
 * The learning-rate range test: training loss against the rate of each step (log₁₀ x), raw as
 * dots and smoothed as a line, the rate the search took marked.
 */
export function rangeTestChartOptions(
  p: ChartPalette,
  chosen: number | null,
  second?: { batchSize: number; reading: number | null },
  batchSize?: number | null,
): Options {
  const loss = (_u: uPlot, v: number | null) => (v === null ? '—' : formatNumber(v, 3));
  const at = batchSize ? ` at ${batchSize}` : '';
  const series: uPlot.Series[] = [
    { label: 'rate', value: (_u, v) => (v === null ? '—' : v.toExponential(1)) },
    { label: `loss${at}`, stroke: p.muted, width: 0, points: { show: true, size: 4, fill: p.muted }, value: loss },
    { label: `smoothed${at}`, stroke: p.series[0], width: 2, spanGaps: true, points: { show: false }, value: loss },
    ...(second
      ? [
          // Told apart by shape as well as hue: hollow points and a dashed line.
          {
            label: `loss at ${second.batchSize}`,
            stroke: p.series[1],
            width: 0,
            points: { show: true, size: 5, fill: 'transparent', stroke: p.series[1] },
            value: loss,
          },
          { label: `smoothed at ${second.batchSize}`, stroke: p.series[1], width: 2, dash: [6, 4], spanGaps: true, points: { show: false }, value: loss },
        ]
      : []),
  ];
  return {
    title: 'Learning-rate range test',
    scales: { x: { time: false, distr: 3, log: 10 }, y: { auto: true } },
    axes: decadeLabels(axes(p, 'learning rate (one step each)', 'training loss')),
    series,
    plugins: [
      markersPlugin(p, chosen, null, (v) => `${batchSize ? `batch ${batchSize} reads` : 'chosen'} ${v.toExponential(1)}`),
      ...(second?.reading != null
        ? [markersPlugin({ ...p, accent: p.series[1]! }, second.reading, null, (v) => `batch ${second.batchSize} reads ${v.toExponential(1)}`, 'top')]
        : []),
      legendSwatchesPlugin(series),
    ],
    legend: { live: true },
  };
}

/** Draws one marker of `shape` centred at (x, y), radius r (canvas pixels). */
function drawMarker(ctx: CanvasRenderingContext2D, shape: MarkerShape, x: number, y: number, r: number): void {
  ctx.beginPath();
  switch (shape) {
    case 'circle':
    case 'ring':
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      break;
    case 'square':
      ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
      break;
    case 'triangle':
    case 'triangle-down': {
      const s = shape === 'triangle' ? 1 : -1;
      ctx.moveTo(x, y - s * r * 1.15);
      ctx.lineTo(x + r, y + s * r * 0.75);
      ctx.lineTo(x - r, y + s * r * 0.75);
      ctx.closePath();
      break;
    }
    case 'diamond':
      ctx.moveTo(x, y - r * 1.2);
      ctx.lineTo(x + r, y);
      ctx.lineTo(x, y + r * 1.2);
      ctx.lineTo(x - r, y);
      ctx.closePath();
      break;
    case 'cross':
    case 'plus': {
      // Drawn as strokes: a thin cross has no inside to fill.
      const d = shape === 'cross' ? r * 0.8 : r;
      const [a, b] = shape === 'cross' ? [d, d] : [d, 0];
      ctx.moveTo(x - a, y - b);
      ctx.lineTo(x + a, y + b);
      ctx.moveTo(x + b, y - a);
      ctx.lineTo(x - b, y + a);
      break;
    }
  }
}

/** The scatter's points as markers: the shape by model (its colour too), over a light outline for contrast. */
function scatterMarkersPlugin(s: RunScatter, p: ChartPalette): uPlot.Plugin {
  const stroked = new Set<MarkerShape>(['cross', 'plus', 'ring']);
  return {
    hooks: {
      draw: [
        (u: uPlot) => {
          const ctx = u.ctx;
          const dpr = devicePixelRatio;
          ctx.save();
          for (const pt of s.points) {
            if (!u.series[pt.series + 1]?.show) continue; // hidden from the legend
            const m = s.models[pt.series]!;
            const color = p.series[pt.series % p.series.length]!;
            const x = u.valToPos(pt.x, 'x', true);
            const y = u.valToPos(pt.y, 'y', true);
            drawMarker(ctx, m.shape, x, y, 5 * dpr);
            if (stroked.has(m.shape)) {
              ctx.lineWidth = 2.5 * dpr;
              ctx.strokeStyle = color;
              ctx.stroke();
            } else {
              ctx.fillStyle = color;
              ctx.fill();
              ctx.lineWidth = 1 * dpr;
              ctx.strokeStyle = p.text;
              ctx.stroke();
            }
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** The x scale and axis of the scatter: log₂ for batch sizes, log₁₀ for rates, a column per model. */
function scatterX(s: RunScatter, p: ChartPalette, yLabel: string, yValues?: (v: number) => string): { scale: uPlot.Scale; axes: uPlot.Axis[] } {
  const xs = s.data[0];
  const lo = xs.length ? Math.min(...xs) : 1;
  const hi = xs.length ? Math.max(...xs) : 1;
  const base = axes(p, COMPARE_BY_LABELS[s.by].toLowerCase(), yLabel, yValues);
  // Whole powers of the base at both ends (uPlot puts a log axis's ticks at the range's end and
  // its powers from there), a little beyond the outermost points so none sits on the frame.
  const powers = (b: number): uPlot.Range.MinMax => [b ** Math.floor(Math.log(lo) / Math.log(b) - 0.15), b ** Math.ceil(Math.log(hi) / Math.log(b) + 0.15)];
  if (s.by === 'batchSize') return { scale: { time: false, distr: 3, log: 2, range: () => powers(2) }, axes: base };
  if (s.by === 'learningRate') return { scale: { time: false, distr: 3, log: 10, range: () => powers(10) }, axes: decadeLabels(base) };
  const names = s.models.map((m) => m.model);
  const [xAxis, ...rest] = base;
  const columns = names.map((_, i) => i + 1);
  return {
    scale: { time: false, range: () => [0.5, names.length + 0.5] },
    axes: [{ ...xAxis!, splits: () => columns, values: (_u, vals) => vals.map((v) => names[Math.round(v) - 1] ?? '') }, ...rest],
  };
}

/**
 * Runs as points: a setting across (batch size, learning rate, model), best validation accuracy
 * or training time up; each model its own marker shape. Hovering names the run in the legend.
 */
export function runScatterOptions(s: RunScatter, p: ChartPalette): Options {
  const accuracy = s.y === 'accuracy';
  const yValues = accuracy ? percentAxis : (v: number) => formatDuration(v);
  const ys = s.points.map((pt) => pt.y);
  const yRange: uPlot.Scale['range'] = accuracy
    ? // Close accuracies stay apart: the range hugs the points, within 0–100 %.
      () => [Math.max(0, Math.min(...ys, 1) - 0.05), Math.min(1, Math.max(...ys, 0) + 0.05)]
    : () => [0, Math.max(...ys, 1) * 1.1];
  const x = scatterX(s, p, accuracy ? 'best val. accuracy' : 'training time', yValues);
  return {
    title: `${SCATTER_Y_LABELS[s.y]} by ${COMPARE_BY_LABELS[s.by].toLowerCase()}`,
    scales: { x: x.scale, y: { range: yRange } },
    axes: x.axes,
    series: [
      { label: 'run', value: (_u, _v, _s, idx) => (idx === null || !s.points[idx] ? '—' : pointText(s.points[idx])) },
      ...s.models.map((m, i) => ({
        label: `${m.glyph} ${m.model}`,
        stroke: p.series[i % p.series.length],
        paths: () => null,
        points: { show: false },
        value: (_u: uPlot, v: number | null) => (v === null ? '—' : accuracy ? formatPercent(v) : formatDuration(v)),
      })),
    ],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    plugins: [scatterMarkersPlugin(s, p)],
  };
}
