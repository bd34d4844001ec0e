// What the probes after the current one are expected to cost (docs/architecture.md §5.11), for
// the allowance to weigh against the current one: a phase is granted time only with the later,
// more valuable probes counted (CUT_ORDER gives up the least valuable first).
import { VALIDATION_SPEEDUP, type WantedProbe } from '../../../shared/search-budget.js';
import { MIN_TRIAL_SECONDS, noiseProbePlan, rampBatches, rampSteps, timingSteps, trialPlan } from '../../../shared/search-plan.js';
import type { SearchContext } from './context.js';
import { lateNoisePlan, lateNoiseSeconds, lateNoiseWanted } from './noise-plan.js';

/** The phases that can be cut, in the order they run. */
export type LaterPhase = 'range-test' | 'noise' | 'late-noise' | 'trials';

/** Seconds of a validation pass: forward only, about 3× a training step's speed per sample. */
export function validationSeconds(s: SearchContext, b: number): number {
  return s.validationCount / (VALIDATION_SPEEDUP * s.estimate.samplesPerSecond(b));
}

/** The noise probe's expected seconds at the base batch. */
export function noiseSeconds(s: SearchContext): number {
  const b0 = s.request.baseBatchSize;
  const plan = noiseProbePlan(b0, s.estimate.stepSeconds(b0), s.trainCount, s.minBatch);
  return lateNoiseSeconds(s, plan, plan.pretrainSteps);
}

/** The validation trials' expected seconds around batch `around`, and the least they can be shortened to. */
export function trialsSeconds(s: SearchContext, around: number, maxBatch: number): { seconds: number; minSeconds: number; fixed: number; count: number } {
  const plan = trialPlan(around, maxBatch, s.allowance.plannedRunSeconds() ?? 0, s.minBatch);
  const fixed = plan.sizes.reduce((sum, b) => sum + validationSeconds(s, b) + s.estimate.overhead, 0);
  return { seconds: fixed + plan.sizes.length * plan.seconds, minSeconds: fixed + plan.sizes.length * MIN_TRIAL_SECONDS, fixed, count: plan.sizes.length };
}

/** Seconds of timing the choice's 1.5× neighbour (Full): ~60 ms of steps, 3 to 24 of them, as timingSteps plans. */
export function neighbourSeconds(s: SearchContext, around: number, maxBatch: number): number {
  const nb = Math.round(around * 1.5);
  if (nb > maxBatch) return 0;
  const t = s.estimate.stepSeconds(nb);
  return timingSteps([{ batchSize: nb, stepMs: t * 1000 }], nb) * t + s.estimate.overhead;
}

/** Seconds a learning-rate ramp at batch b is expected to take. */
export function rampSeconds(s: SearchContext, b: number): number {
  return rampSteps(b) * s.estimate.stepSeconds(b) + s.estimate.overhead;
}

/** The probes from phase `from` on, at their estimates, for a search whose largest wanted batch is maxBatch. */
export function laterProbes(s: SearchContext, from: LaterPhase, maxBatch: number, around: number): WantedProbe[] {
  const full = s.request.mode === 'full';
  const out: WantedProbe[] = [];
  if (from === 'range-test' && s.request.searchLearningRate !== false) {
    const { first, second } = rampBatches(s.request.baseBatchSize, maxBatch, s.minBatch);
    out.push({ probe: 'range-test', seconds: rampSeconds(s, first) });
    if (second) out.push({ probe: 'second-ramp', seconds: rampSeconds(s, second) });
  }
  if (full && (from === 'range-test' || from === 'noise')) out.push({ probe: 'noise', seconds: noiseSeconds(s) });
  if (full && from !== 'trials') {
    const b0 = s.request.baseBatchSize;
    out.push({ probe: 'late-noise', ...lateNoiseWanted(s, lateNoisePlan(s, s.estimate.stepSeconds(b0))) });
  }
  if (full) {
    const t = trialsSeconds(s, around, maxBatch);
    // Before the choice, the timing of its 1.5× neighbour is still to come: counted with the trials.
    const neighbour = from === 'trials' ? 0 : neighbourSeconds(s, around, maxBatch);
    out.push({ probe: 'trials', seconds: t.seconds + neighbour, minSeconds: t.minSeconds + neighbour });
  }
  return out;
}
