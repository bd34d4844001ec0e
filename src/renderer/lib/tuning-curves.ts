// The Auto-tune curves as uPlot columns: one x (batch size, ascending) shared by memory,
// throughput, efficiency and goodput. While a search runs there is no report yet, so the curves
// are built from the trials measured so far.
import { suggestLearningRate } from '../../shared/learning-rate-range.js';
import type { CurvePoint, LearningRateTest } from '../../shared/tuning-types.js';

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

/** The learning-rate range test as uPlot columns: rate (ascending), raw loss, smoothed loss. */
export interface RangeTestColumns {
  x: number[];
  loss: number[];
  smoothed: (number | null)[];
  /** The rate the search took (for the test's batch), or null when it found none. */
  chosen: number | null;
}

/**
 * From the report when there is one; while the search runs, from the range test's trial (its
 * raw rates and losses, smoothed and read here with the same rule the tuner uses).
 */
export function rangeTestColumns(report: { learningRateTest?: LearningRateTest | null } | null, trials: readonly TrialLike[]): RangeTestColumns | null {
  const test = report?.learningRateTest;
  if (test) {
    if (test.points.length === 0) return null;
    return { x: test.points.map((p) => p.rate), loss: test.points.map((p) => p.loss), smoothed: test.points.map((p) => p.smoothed), chosen: test.rate };
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
  return { x, loss, smoothed: x.map((_, i) => found?.smoothed[i] ?? null), chosen: found?.rate ?? null };
}
