// The Auto-tune curves as uPlot columns: one x (batch size, ascending) shared by memory,
// throughput, efficiency and goodput. While a search runs there is no report yet, so the curves
// are built from the trials measured so far.
import { suggestLearningRate } from '../../shared/learning-rate-range.js';
import type { CurvePoint, LearningRateTest, TuningReport } from '../../shared/tuning-types.js';
import { CUT_LABELS } from '../../shared/search-budget.js';
import { formatDuration } from '../../shared/format.js';

interface CurveColumns {
  x: number[];
  memory: (number | null)[];
  predictedMemory: (number | null)[];
  throughput: (number | null)[];
  efficiency: (number | null)[];
  goodput: (number | null)[];
}

const val = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

export function curveColumns(points: readonly CurvePoint[]): CurveColumns {
  const sorted = points.filter((p) => p.batchSize > 0).sort((a, b) => a.batchSize - b.batchSize);
  return {
    x: sorted.map((p) => p.batchSize),
    memory: sorted.map((p) => val(p.memoryBytes)),
    predictedMemory: sorted.map((p) => val(p.predictedMemoryBytes)),
    throughput: sorted.map((p) => val(p.samplesPerSecond)),
    efficiency: sorted.map((p) => val(p.efficiency)),
    goodput: sorted.map((p) => val(p.goodput)),
  };
}

interface TrialLike {
  kind: string;
  batchSize: number;
  status: string;
  result: Record<string, unknown>;
}

/** Curve points from the trials so far: memory probes give peak bytes, throughput probes samples/s. */
export function curvesFromTrials(trials: readonly TrialLike[]): CurvePoint[] {
  const byBatch = new Map<number, CurvePoint>();
  const at = (b: number) => {
    let p = byBatch.get(b);
    if (!p) byBatch.set(b, (p = { batchSize: b }));
    return p;
  };
  for (const t of trials) {
    if (t.status !== 'ok') continue;
    const peak = t.result['peakBytes'];
    const sps = t.result['samplesPerSecond'];
    if (t.kind === 'memory' && typeof peak === 'number') at(t.batchSize).memoryBytes = Math.max(at(t.batchSize).memoryBytes ?? 0, peak);
    if (t.kind === 'throughput' && typeof sps === 'number') at(t.batchSize).samplesPerSecond = sps;
  }
  return [...byBatch.values()];
}

/** The learning-rate range test as uPlot columns: rate (ascending), raw loss, smoothed loss (null where a ramp has no step at that rate). */
export interface RangeTestColumns {
  x: number[];
  loss: (number | null)[];
  smoothed: (number | null)[];
  /** The rate the first ramp read (for its batch), or null when it found none. */
  chosen: number | null;
  /** The first ramp's batch, when known. */
  batchSize: number | null;
  /** The second ramp, on the same x (the stored report's; absent while the search runs or when there was none). */
  second?: { batchSize: number; loss: (number | null)[]; smoothed: (number | null)[]; reading: number | null };
}

/** Two ramps' points on one ascending x: each column null where its ramp has no point. */
function mergeRamps(
  a: readonly { rate: number; loss: number; smoothed: number }[],
  b: readonly { rate: number; loss: number; smoothed: number }[],
): { x: number[]; a: { loss: (number | null)[]; smoothed: (number | null)[] }; b: { loss: (number | null)[]; smoothed: (number | null)[] } } {
  const x = [...new Set([...a.map((p) => p.rate), ...b.map((p) => p.rate)])].sort((u, v) => u - v);
  const column = (pts: readonly { rate: number; loss: number; smoothed: number }[]) => {
    const at = new Map(pts.map((p) => [p.rate, p] as const));
    return { loss: x.map((r) => at.get(r)?.loss ?? null), smoothed: x.map((r) => at.get(r)?.smoothed ?? null) };
  };
  return { x, a: column(a), b: column(b) };
}

/** "0.42 s of 0.60 s allowed (5 % of a 12 s run)", with what was cut or that a previous tuning stood; null for reports from before the allowance. */
export function allowanceSummary(a: TuningReport['allowance'] | undefined, searchSeconds: number | null): string | null {
  if (!a || a.allowanceSeconds === null || a.plannedSeconds === null) return null;
  const of = `${Math.round(a.share * 100)} % of ${a.plannedFrom === 'your budget' ? 'your' : 'a predicted'} ${formatDuration(a.plannedSeconds)} run`;
  if (a.reusedFrom !== undefined)
    return `none run: ${formatDuration(a.allowanceSeconds)} allowed (${of}) is less than the shortest search, so tuning #${a.reusedFrom}'s findings stand`;
  const cut = a.cuts.length ? `; ${a.cuts.map((c) => `${CUT_LABELS[c.probe]} ${c.how}`).join(', ')}` : '';
  return `${formatDuration(searchSeconds ?? a.spentSeconds)} of ${formatDuration(a.allowanceSeconds)} allowed (${of})${cut}`;
}

/**
 * From the report when there is one; while the search runs, from the range test's trial (its
 * raw rates and losses, smoothed and read here with the same rule the tuner uses).
 */
export function rangeTestColumns(report: { learningRateTest?: LearningRateTest | null } | null, trials: readonly TrialLike[]): RangeTestColumns | null {
  const test = report?.learningRateTest;
  if (test) {
    if (test.points.length === 0) return null;
    const second = test.second && test.second.points.length > 0 ? test.second : null;
    const m = mergeRamps(test.points, second?.points ?? []);
    return {
      x: m.x,
      ...m.a,
      chosen: test.rate,
      batchSize: test.batchSize,
      ...(second ? { second: { batchSize: second.batchSize, ...m.b, reading: second.rate } } : {}),
    };
  }
  const trial = trials.find((t) => t.kind === 'learning-rate' && t.status === 'ok');
  const rates = trial?.result['rates'];
  const losses = trial?.result['losses'];
  if (!Array.isArray(rates) || !Array.isArray(losses)) return null;
  const n = Math.min(rates.length, losses.length);
  const x: number[] = [];
  const loss: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rates[i];
    const l = losses[i];
    if (typeof r !== 'number' || typeof l !== 'number' || !Number.isFinite(l) || !(r > 0)) break;
    x.push(r);
    loss.push(l);
  }
  if (x.length === 0) return null;
  const found = suggestLearningRate(x, loss);
  return { x, loss, smoothed: x.map((_, i) => found?.smoothed[i] ?? null), chosen: found?.rate ?? null, batchSize: trial?.batchSize ?? null };
}
