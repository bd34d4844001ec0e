// The Auto-tune curves as uPlot columns: one x (batch size, ascending) shared by memory,
// throughput, efficiency and goodput. While a search runs there is no report yet, so the curves
// are built from the trials measured so far.
import type { CurvePoint } from '../../shared/tuning-types.js';

export interface CurveColumns {
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
