// The noise probes' plans and costs (docs/architecture.md §5.6): what the early and the late
// probe train, and what they ask of the search's allowance. Apart from noise.ts, which runs the
// probes, so that remaining.ts can weigh them without importing the phase itself.
import { noiseProbePlan } from '../../../shared/search-plan.js';
import type { SearchContext } from './context.js';

/** How far into the planned run the late measurement aims: a quarter, on the way to its middle. */
const LATE_SHARE_OF_RUN = 0.25;

/** Samples the planned run trains on. */
export const runSamples = (s: SearchContext) => s.request.plannedEpochs * s.trainCount;

/** Samples halfway through the planned run. */
export const halfway = (s: SearchContext) => runSamples(s) / 2;

/** The late probe's plan: the early probe's micro-batches and steps, after pre-training towards a quarter of the planned run. */
export function lateNoisePlan(s: SearchContext, t0: number): { microBatch: number; k: number; steps: number; pretrainSteps: number; minPretrainSteps: number } {
  const b0 = s.request.baseBatchSize;
  const early = noiseProbePlan(b0, t0, s.trainCount, s.minBatch);
  const batch = early.microBatch * early.k;
  const pretrainSteps = Math.max(early.pretrainSteps, Math.ceil((LATE_SHARE_OF_RUN * runSamples(s)) / batch));
  // Less than 4× the early probe's training is no later than what it already saw.
  const minPretrainSteps = Math.min(pretrainSteps, Math.max(4 * (early.pretrainSteps + early.steps), 1));
  return { microBatch: early.microBatch, k: early.k, steps: early.steps, pretrainSteps, minPretrainSteps };
}

/**
 * What the late probe asks of the allowance: a quarter of the run's training, or a third of the
 * allowance if that is less (the pre-training is thrown away: it must stay a small part of what
 * the search may spend), and at least its shortest.
 */
export function lateNoiseWanted(s: SearchContext, plan: ReturnType<typeof lateNoisePlan>): { seconds: number; minSeconds: number } {
  const minSeconds = lateNoiseSeconds(s, plan, plan.minPretrainSteps);
  const seconds = Math.max(minSeconds, Math.min(lateNoiseSeconds(s, plan, plan.pretrainSteps), s.allowance.allowance() / 3));
  return { seconds, minSeconds };
}

/** Seconds of a noise probe (early or late) with p pre-training steps: each measured step takes k micro-batch steps, the pre-training steps are whole batches. */
export function lateNoiseSeconds(s: SearchContext, plan: { microBatch: number; k: number; steps: number }, pretrainSteps: number): number {
  return plan.steps * plan.k * s.estimate.stepSeconds(plan.microBatch) + pretrainSteps * s.estimate.stepSeconds(plan.microBatch * plan.k) + s.estimate.overhead;
}
