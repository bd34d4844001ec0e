// Phase 2, throughput (docs/architecture.md §5.4): timed steps at each power of two from 8 (a
// batch-norm model: from its floor) up to the ceiling and the cap, the time model t(B) = α + βB,
// and the saturation batch.
import type { MemoryReading } from '../../../shared/ceiling-search.js';
import { runModelLabel } from '../../../shared/model-families.js';
import { saturationBatch, throughputCandidates, timingSteps, timingWarmupSteps } from '../../../shared/search-plan.js';
import { fitLine, type LinearFit } from '../../../shared/tuner-math.js';
import type { SearchContext } from './context.js';
import type { MemoryPhase } from './memory.js';
import { batchNormReason, throughputReason } from './reasons.js';

export interface Timing {
  secondsPerStep: number;
  samplesPerSecond: number;
}

export interface ThroughputPhase {
  /** The largest batch wanted: the memory ceiling or the cap. */
  maxBatch: number;
  /** Every timing, by batch (the goodput phase may add its neighbour). */
  timings: Map<number, Timing>;
  /** The candidates that were timed, by batch, as the time model and the saturation saw them. */
  timed: ({ batchSize: number } & Timing)[];
  timeFit: LinearFit;
  bestSamplesPerSecond: number;
  /** The smallest batch within 10 % of the best throughput. */
  saturation: number;
}

/** Times steps at batch b and keeps the timing, if the probe gave one. */
export async function timeBatch(s: SearchContext, readings: Map<number, MemoryReading>, timings: Map<number, Timing>, b: number): Promise<void> {
  const steps = timingSteps([...readings.values()], b);
  const warmupSteps = timingWarmupSteps(s.backend.name);
  s.progress('throughput', b, `timing ${steps} steps at batch ${b}`);
  const { answer } = await s.probe('throughput', b, null, (p) => p.throughput({ batchSize: b, warmupSteps, steps }));
  if (answer.ok && answer.result.kind === 'throughput') timings.set(b, answer.result);
}

/** The throughput curve over the candidates up to the ceiling. */
export async function measureThroughput(s: SearchContext, memory: MemoryPhase): Promise<ThroughputPhase> {
  const { request } = s;
  const maxBatch = Math.min(memory.ceiling.ceiling, s.cap);
  const candidates = throughputCandidates(maxBatch, s.minBatch);
  // Then the range test, and in Full the noise probe, the neighbour's timing and three trials.
  s.plan(candidates.length + (request.mode === 'full' ? 5 : 0) + (request.searchLearningRate === false ? 0 : 1));
  const timings = new Map<number, Timing>();
  for (const b of candidates) await timeBatch(s, memory.readings, timings, b);
  if (timings.size === 0) throw new Error('no batch size could be timed (see the trials)');
  const timed = [...timings].sort((a, b) => a[0] - b[0]).map(([batchSize, t]) => ({ batchSize, ...t }));
  const timeFit = fitLine(
    timed.map((t) => t.batchSize),
    timed.map((t) => t.secondsPerStep),
  );
  const { batchSize: saturation, bestSamplesPerSecond } = saturationBatch(timed);
  if (s.minBatch > 1) s.reasons.push(batchNormReason(runModelLabel(request.model), s.minBatch));
  s.reasons.push(throughputReason({ first: timed[0]!, bestSamplesPerSecond, saturation, backendName: s.backend.name }));
  return { maxBatch, timings, timed, timeFit, bestSamplesPerSecond, saturation };
}
