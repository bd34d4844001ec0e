// Phase 5b, Full mode (docs/architecture.md §5.7a): an effective batch above the memory ceiling by
// gradient accumulation, when goodput says so. Past the ceiling a batch can only be trained in
// passes of at most the ceiling, so its throughput is about the ceiling's — a little better, as
// the optimizer update and the per-step costs are paid once per k passes — while its statistical
// efficiency is lower. Where the goodput model still rises at the ceiling (its optimum √(αφ/β) lies
// beyond it), the search times one accumulated step of 2× the ceiling for real — and the ceiling
// itself in one pass, when the candidates did not include it — and recommends the accumulated batch
// only when its goodput beats both the chosen batch's and the ceiling's clearly (by the tie margin
// the choice itself uses): accumulation is worth its complexity only past the best plain batch.
// Not after validation trials that moved the choice down: they found larger batches worse.
import { goodput, goodputOptimum } from '../../../shared/tuner-math.js';
import { timingSteps, timingWarmupSteps } from '../../../shared/search-plan.js';
import type { SearchContext } from './context.js';
import type { MemoryPhase } from './memory.js';
import type { NoisePhase } from './noise.js';
import type { ThroughputPhase } from './throughput.js';
import { round } from './reasons.js';
import { timeBatch } from './throughput.js';

/** An effective batch trained in passes of `microBatch`, with its measured throughput. */
export interface AccumulatedChoice {
  batchSize: number;
  microBatch: number;
  samplesPerSecond: number;
}

/** Passes per accumulated step the search times: 2 (the nearest batch above the ceiling it can train). */
const PASSES = 2;

/**
 * Whether the accumulated batch's goodput beats the chosen one's by more than the tie margin
 * (goodput within `tie` of each other is a tie, settled for the batch without accumulation).
 */
export function accumulationWins(
  chosen: { batchSize: number; samplesPerSecond: number },
  accumulated: { batchSize: number; samplesPerSecond: number },
  baseBatch: number,
  noiseScale: number,
  tie: number,
): boolean {
  return (
    tie * goodput(accumulated.samplesPerSecond, accumulated.batchSize, baseBatch, noiseScale) >
    goodput(chosen.samplesPerSecond, chosen.batchSize, baseBatch, noiseScale)
  );
}

/** Whether memory (not the dataset's size or the time allowance) is what stops the batch at the ceiling, and the model says larger would pay. */
function worthTiming(s: SearchContext, memory: MemoryPhase, speed: ThroughputPhase, phi: number, chosen: number): boolean {
  const m = speed.maxBatch;
  if (memory.ceiling.cappedByDataset || m < memory.ceiling.ceiling || PASSES * m > s.cap) return false;
  // The chosen batch is at the ceiling's end of the curve, and goodput still rises there.
  return chosen * 1.5 > m && goodputOptimum(speed.timeFit.a, speed.timeFit.b, phi) > m;
}

/**
 * The accumulated batch to recommend instead of `chosen` (`picked` before the validation trials),
 * or null (with a reason when it was timed).
 */
export async function tryAccumulation(
  s: SearchContext,
  phases: { memory: MemoryPhase; speed: ThroughputPhase; noise: NoisePhase },
  picked: number,
  chosen: number,
  tie: number,
): Promise<AccumulatedChoice | null> {
  const { memory, speed } = phases;
  const phi = phases.noise.noiseScale;
  if (s.request.mode !== 'full' || speed.skipped || phi === null || chosen < picked || !worthTiming(s, memory, speed, phi, chosen)) return null;
  const micro = speed.maxBatch;
  const batch = PASSES * micro;
  const stepSeconds = PASSES * s.estimate.stepSeconds(micro);
  const steps = timingSteps([{ batchSize: batch, stepMs: stepSeconds * 1000 }], batch);
  const plainSeconds = speed.timings.has(micro) ? 0 : (steps * stepSeconds) / PASSES + s.estimate.overhead;
  if (s.allowance.left() < steps * stepSeconds + s.estimate.overhead + plainSeconds) return null;
  if (!speed.timings.has(micro)) await timeBatch(s, memory.readings, speed.timings, micro);
  const plain = speed.timings.get(micro);
  if (!plain) return null;
  s.progress('throughput', batch, `timing ${steps} accumulated steps of ${batch} (${PASSES} passes of ${micro})`);
  const { answer } = await s.probe('throughput', batch, null, (p) =>
    p.throughput({ batchSize: batch, warmupSteps: timingWarmupSteps(s.backend.name), steps, microBatch: micro }),
  );
  if (!answer.ok || answer.result.kind !== 'throughput') return null;
  const accumulated = { batchSize: batch, microBatch: micro, samplesPerSecond: answer.result.samplesPerSecond };
  const b0 = s.request.baseBatchSize;
  const g = (b: { batchSize: number; samplesPerSecond: number }) => goodput(b.samplesPerSecond, b.batchSize, b0, phi);
  // The best plain batch to beat: the chosen one, or the ceiling in one pass.
  const chosenTiming = { batchSize: chosen, samplesPerSecond: speed.timings.get(chosen)!.samplesPerSecond };
  const rival = [chosenTiming, { batchSize: micro, samplesPerSecond: plain.samplesPerSecond }].reduce((a, b) => (g(b) > g(a) ? b : a));
  const wins = accumulationWins(rival, accumulated, b0, phi, tie);
  s.reasons.push(accumulationReason(rival, accumulated, g(accumulated) / g(rival), wins));
  return wins ? accumulated : null;
}

/** §5.7a's sentence: the accumulated batch's speed and goodput against the chosen one's, and the verdict. */
export function accumulationReason(
  chosen: { batchSize: number; samplesPerSecond: number },
  acc: AccumulatedChoice,
  goodputRatio: number,
  wins: boolean,
): string {
  const timed = `Batch ${acc.batchSize}, above the memory ceiling, trained as ${acc.batchSize / acc.microBatch} accumulated micro-batches of ${acc.microBatch} at ${Math.round(acc.samplesPerSecond)} samples/s (batch ${chosen.batchSize}: ${Math.round(chosen.samplesPerSecond)})`;
  const ratio = `${round(goodputRatio * 100)} %`;
  return wins
    ? `${timed}; with the noise scale its goodput is ${ratio} of batch ${chosen.batchSize}'s, so it is recommended, with micro-batch ${acc.microBatch} (runs from this tuning accumulate by themselves).`
    : `${timed}; with the noise scale its goodput is only ${ratio} of batch ${chosen.batchSize}'s, so it is not worth accumulating.`;
}
