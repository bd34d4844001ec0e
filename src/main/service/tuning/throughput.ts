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
import { laterProbes } from './remaining.js';

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
  /** Whether the throughput probes were skipped (the allowance had no room): the timings are the memory probes' single steps. */
  skipped: boolean;
}

/** Times steps at batch b (timingSteps' count unless told) and keeps the timing, if the probe gave one. */
export async function timeBatch(
  s: SearchContext,
  readings: Map<number, MemoryReading>,
  timings: Map<number, Timing>,
  b: number,
  steps = timingSteps([...readings.values()], b),
): Promise<void> {
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
  s.plan(candidates.length + (request.mode === 'full' ? 5 : 0) + (request.searchLearningRate === false ? 0 : 2));
  const timings = new Map<number, Timing>();
  const steps = await grantedSteps(s, memory, candidates, maxBatch);
  if (steps) for (const b of candidates) await timeBatch(s, memory.readings, timings, b, steps.get(b));
  else for (const [b, t] of stepTimesOfMemoryProbes(s, memory, maxBatch)) timings.set(b, t);
  if (timings.size === 0) throw new Error('no batch size could be timed (see the trials)');
  const timed = [...timings].sort((a, b) => a[0] - b[0]).map(([batchSize, t]) => ({ batchSize, ...t }));
  const timeFit = fitLine(
    timed.map((t) => t.batchSize),
    timed.map((t) => t.secondsPerStep),
  );
  const { batchSize: saturation, bestSamplesPerSecond } = saturationBatch(timed);
  s.estimate.fitSteps(timed.map((t) => ({ batchSize: t.batchSize, seconds: t.secondsPerStep })));
  s.allowance.predict(bestSamplesPerSecond);
  if (s.minBatch > 1) s.reasons.push(batchNormReason(runModelLabel(request.model), s.minBatch));
  s.reasons.push(throughputReason({ first: timed[0]!, bestSamplesPerSecond, saturation, backendName: s.backend.name }));
  return { maxBatch, timings, timed, timeFit, bestSamplesPerSecond, saturation, skipped: !steps };
}

/** Fewest timed steps a size can be shortened to: below that one slow step decides. */
const MIN_TIMING_STEPS = 3;

/**
 * Timed steps per candidate within the allowance (the later probes counted): as planned, fewer
 * (each at least MIN_TIMING_STEPS), or null when even that does not fit.
 */
async function grantedSteps(s: SearchContext, memory: MemoryPhase, candidates: readonly number[], maxBatch: number): Promise<Map<number, number> | null> {
  const readings = [...memory.readings.values()];
  const warm = timingWarmupSteps(s.backend.name);
  const planned = new Map(candidates.map((b) => [b, timingSteps(readings, b)] as const));
  const cost = (steps: (b: number) => number) => candidates.reduce((sum, b) => sum + (steps(b) + warm) * s.estimate.stepSeconds(b) + s.estimate.overhead, 0);
  const seconds = cost((b) => planned.get(b)!);
  const minSeconds = cost(() => MIN_TIMING_STEPS);
  const around = Math.min(s.request.baseBatchSize, maxBatch);
  const granted = s.allowance.grant('throughput', [{ probe: 'throughput', seconds, minSeconds }, ...laterProbes(s, 'range-test', maxBatch, around)]);
  if (granted <= 0) return null;
  if (granted >= seconds - 1e-9) return planned;
  // Shortened: each size loses the same share of the steps above the least.
  const f = Math.max(0, (granted - minSeconds) / Math.max(seconds - minSeconds, 1e-9));
  return new Map(candidates.map((b) => [b, MIN_TIMING_STEPS + Math.floor(f * (planned.get(b)! - MIN_TIMING_STEPS))] as const));
}

/** The memory probes' one-step times as timings, where the throughput probes had no time: the sizes that fitted, up to maxBatch. */
function stepTimesOfMemoryProbes(s: SearchContext, memory: MemoryPhase, maxBatch: number): Map<number, Timing> {
  const out = new Map<number, Timing>();
  for (const m of memory.readings.values()) {
    if (!m.fits || m.stepMs === undefined || m.batchSize > maxBatch || m.batchSize < s.minBatch) continue;
    const secondsPerStep = m.stepMs / 1000;
    out.set(m.batchSize, { secondsPerStep, samplesPerSecond: m.batchSize / secondsPerStep });
  }
  return out;
}
