// A batch that adapts during training (Pollux/AdaptDL's idea, on one machine): the run estimates
// the gradient noise scale φ from its own gradients — now and then a step is taken as equal passes
// (halves, or its micro-batches when it accumulates) whose gradients give the two-batch estimator
// (tuner-math.ts, noiseScaleTerms) — and every `everySteps` steps the service predicts goodput,
// X(B)·(φ + B₀)/(φ + B), at the batches its tuning timed, from that tuning's time model
// t(B) = α + βB. When the best beats the current batch by at least `minGain`, at most once every
// `minStepsBetween` steps, the batch changes, the learning rate scaled by the search's rule and
// reached by a short linear ramp. φ grows as training goes on, so the batch usually grows with it.
import { goodput, scaleLearningRate } from './tuner-math.js';
import type { OptimizerKind } from './run-types.js';

export const ADAPTIVE_DEFAULTS = {
  /** Steps between two decisions (the noise scale is estimated over each such window). */
  everySteps: 200,
  /** Fewest steps between two changes of the batch. */
  minStepsBetween: 500,
  /** Smallest predicted goodput gain worth a change. */
  minGain: 0.05,
  /** Steps of the linear ramp from the old learning rate to the new one. */
  rampSteps: 50,
} as const;

/** What the settings accept. */
export const ADAPTIVE_LIMITS = {
  everySteps: { min: 10, max: 100_000 },
  minStepsBetween: { min: 0, max: 10_000_000 },
} as const;

/** How often, within a window, a step is measured as equal passes: ~10 measurements a window. */
export function measureEvery(everySteps: number): number {
  return Math.max(1, Math.floor(everySteps / 10));
}

/**
 * The passes a measured step is taken as: its micro-batch when it accumulates (when the batch
 * splits into equal ones), else its halves; undefined when the batch cannot be split equally.
 */
export function measurementPasses(batch: number, micro: number): { passes: number; size: number } | undefined {
  const size = micro < batch ? micro : batch / 2;
  if (!Number.isInteger(size) || size < 1 || batch % size !== 0) return undefined;
  return { passes: batch / size, size };
}

/** What the adaptive runs know of the device: the tuning's time model and the batches it may take. */
export interface AdaptivePlan {
  /** Seconds per step t(B) = alpha + beta·B, from the tuning's throughput probes. */
  alpha: number;
  beta: number;
  /** Batches the tuning timed and that fit (and the model allows), ascending. */
  candidates: number[];
  /** The tuning it comes from, for the run's details. */
  tuningId: number;
}

export interface AdaptiveChange {
  batchSize: number;
  learningRate: number;
  /** Predicted goodput gain over the current batch (0.12 = 12 %). */
  gain: number;
}

/**
 * The change worth making at noise scale φ, or null: the candidate of best predicted goodput, when
 * it beats the current batch's by at least `minGain`.
 */
export function adaptiveChange(
  o: { batch: number; learningRate: number; optimizer: OptimizerKind; noiseScale: number; minGain?: number },
  plan: AdaptivePlan,
): AdaptiveChange | null {
  if (!(o.noiseScale > 0) || !Number.isFinite(o.noiseScale)) return null;
  const g = (b: number) => goodput(b / (plan.alpha + plan.beta * b), b, 1, o.noiseScale);
  const current = g(o.batch);
  let best = o.batch;
  for (const b of plan.candidates) if (g(b) > g(best)) best = b;
  const gain = g(best) / current - 1;
  if (best === o.batch || gain < (o.minGain ?? ADAPTIVE_DEFAULTS.minGain)) return null;
  return { batchSize: best, learningRate: scaleLearningRate(o.learningRate, o.batch, best, o.optimizer), gain };
}
