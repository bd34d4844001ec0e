// How much each probe of the batch-size search measures, and which sizes it tries
// (docs/architecture.md §5.4–5.9). Pure sizing rules, apart from the probes that apply them.

/**
 * Batches to time: powers of two from 8 up to maxBatch (below 8 a step is all overhead and no
 * batch that small is ever the fastest to a target; the memory probes still cover 1…4), or from 1
 * when maxBatch is below 8. None below minBatch (a batch-norm model's floor): from minBatch,
 * doubling, when it is above that start.
 */
export function throughputCandidates(maxBatch: number, minBatch = 1): number[] {
  const out: number[] = [];
  for (let b = Math.max(maxBatch >= 8 ? 8 : 1, minBatch); b <= maxBatch; b *= 2) out.push(b);
  return out;
}

/**
 * Timed steps for a throughput probe at batch b: enough for ~60 ms (3–24), judged from the one-step
 * memory probe nearest b (probes without a step time are skipped; 50 ms per step without any).
 */
export function timingSteps(probes: readonly { batchSize: number; stepMs?: number }[], b: number): number {
  const nearest = probes.filter((p) => p.stepMs).sort((x, y) => Math.abs(x.batchSize - b) - Math.abs(y.batchSize - b))[0];
  const estMs = nearest ? (nearest.stepMs! * b) / nearest.batchSize : 50;
  return Math.max(3, Math.min(24, Math.round(60 / Math.max(estMs, 1))));
}

/**
 * Untimed warm-up steps before a throughput probe: GPU backends compile kernels on a size's first
 * step, so they (and CUDA) get two; on wasm and cpu a slow first step can only make its chunk
 * slower, and the fastest chunk is kept, so none is spent.
 */
export function timingWarmupSteps(backendName: string): number {
  return backendName === 'wasm' || backendName === 'cpu' ? 0 : 2;
}

/** The saturation batch: the smallest timed batch within 10 % of the best throughput. */
export function saturationBatch(timed: readonly { batchSize: number; samplesPerSecond: number }[]): { batchSize: number; bestSamplesPerSecond: number } {
  const best = Math.max(...timed.map((t) => t.samplesPerSecond));
  return { batchSize: timed.find((t) => t.samplesPerSecond >= 0.9 * best)!.batchSize, bestSamplesPerSecond: best };
}

/** Measuring windows of the noise probe (Full): enough to see φ grow as the loss falls. */
export const NOISE_WINDOWS = 3;
/** Micro-batches per step of the noise probe. */
export const NOISE_MICRO_BATCHES = 4;

/**
 * The noise probe at base batch b0: k micro-batches of b0/k, 10–40 measured steps (~0.6 s at
 * twice the step time t0 at b0), after about an eighth of an epoch of pre-training (at most
 * ~0.6 s), spread over the windows: the noise scale of the very first steps is far below that of
 * the rest of the run, and the windows show how fast it grows.
 *
 * A batch-norm model's micro-batches hold at least minBatch samples: each micro-batch gradient
 * is taken in training mode, normalised by that micro-batch's own mean and variance, so tiny
 * micro-batches would measure the noise of those statistics, not the gradient noise a run at
 * minBatch or more sees. Then k is as many micro-batches of minBatch as b0 holds, at least 2 (the
 * estimator's least; the step is then larger than b0) and at most NOISE_MICRO_BATCHES.
 */
export function noiseProbePlan(
  b0: number,
  t0: number,
  trainCount: number,
  minBatch = 1,
): { microBatch: number; k: number; steps: number; pretrainSteps: number; windows: number } {
  let k = NOISE_MICRO_BATCHES;
  let micro = Math.max(1, Math.floor(b0 / k));
  if (micro < minBatch) {
    micro = minBatch;
    k = Math.max(2, Math.min(NOISE_MICRO_BATCHES, Math.floor(b0 / minBatch)));
  }
  const steps = Math.max(10, Math.min(40, Math.round(0.6 / Math.max(t0 * 2, 1e-3))));
  const pretrainSteps = Math.min(Math.round(trainCount / (8 * micro * k)), Math.round(0.6 / Math.max(t0, 1e-4)));
  return { microBatch: micro, k, steps, pretrainSteps, windows: NOISE_WINDOWS };
}

/** The shortest a validation trial runs: a few steps and a validation pass, even on a slow device. */
export const MIN_TRIAL_SECONDS = 0.2;

/**
 * Samples a learning-rate ramp trains on, whatever its batch. The reading depends on how much
 * training happens at each rate (a ramp of 40 steps read 1.4× lower than one of 24 at the same
 * batch), so a ramp measured in samples reads alike at any batch. 768 samples are the 24 steps
 * of 32 the reading rule was calibrated on (`npm run bench:lr-range`, docs/benchmarks.md).
 */
export const RAMP_SAMPLES = 768;
/** Fewer steps than this cannot be read (the smoothing needs 8 finite points, the stop rule may end it early). */
const RAMP_MIN_STEPS = 12;
const RAMP_MAX_STEPS = 200;

/** Steps of a ramp at batch b: RAMP_SAMPLES samples, within the readable range. */
export function rampSteps(b: number): number {
  return Math.max(RAMP_MIN_STEPS, Math.min(RAMP_MAX_STEPS, Math.round(RAMP_SAMPLES / b)));
}

/**
 * The two ramps' batches: the base batch (or the largest wanted, if smaller; or a batch-norm
 * model's floor, if above), and twice it where that is wanted, else half of it (not below the
 * floor); the second is null when neither.
 */
export function rampBatches(b0: number, maxBatch: number, minBatch: number): { first: number; second: number | null } {
  const first = Math.max(Math.min(b0, maxBatch), minBatch);
  if (first * 2 <= maxBatch) return { first, second: first * 2 };
  const half = Math.floor(first / 2);
  return { first, second: half >= Math.max(1, minBatch) && half !== first ? half : null };
}

/**
 * The validation trials around the choice B*: B*, half of it (not below minBatch, a batch-norm
 * model's floor: a step-down after a flagged B* goes to one of these) and twice it (capped at
 * maxBatch), each run for 1 % of the planned run's time, between 0.2 s and 20 s.
 */
export function trialPlan(chosen: number, maxBatch: number, plannedSeconds: number, minBatch = 1): { sizes: number[]; seconds: number } {
  const seconds = Math.max(MIN_TRIAL_SECONDS, Math.min(20, 0.01 * plannedSeconds));
  const sizes = [...new Set([chosen, Math.max(1, minBatch, Math.round(chosen / 2)), Math.min(maxBatch, chosen * 2)])];
  return { sizes, seconds };
}
