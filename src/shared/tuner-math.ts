// The pure maths of the batch-size search (docs/architecture.md §5): linear fits of memory and step
// time, the gradient noise scale of McCandlish et al. (2018), Pollux's goodput (OSDI 2021) and the
// learning-rate co-scaling rules. No tensors here: the engine measures, this decides.

import type { NoiseForecast } from './tuning-types.js';

export interface LinearFit {
  /** Intercept: memory or time that does not grow with the batch. */
  a: number;
  /** Slope per sample. */
  b: number;
  /** Coefficient of determination, 1 = perfect line. */
  r2: number;
}

/** Least-squares line y = a + b·x; with one point, a line through the origin. */
export function fitLine(xs: readonly number[], ys: readonly number[]): LinearFit {
  const n = xs.length;
  if (n === 0 || n !== ys.length) throw new Error('fitLine needs as many x as y values, at least one');
  if (n === 1) return { a: 0, b: ys[0]! / xs[0]!, r2: 1 };
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const b = sxx > 0 ? sxy / sxx : 0;
  const a = my - b * mx;
  const r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1;
  return { a, b, r2 };
}

/** Largest batch whose predicted memory a + b·B stays within the budget (0 if none). */
export function predictMemoryCeiling(fit: LinearFit, budgetBytes: number): number {
  if (fit.b <= 0) return Number.POSITIVE_INFINITY;
  return Math.max(0, Math.floor((budgetBytes - fit.a) / fit.b));
}

/**
 * Two-batch estimators of the squared true gradient norm |G|² and the trace of the per-sample
 * gradient covariance tr Σ, from k micro-batch gradients of b samples each (docs/architecture.md
 * §5.6):
 *   |G|² ≈ (k·‖ḡ‖² − mean‖gᵢ‖²)/(k − 1),   tr Σ ≈ (mean‖gᵢ‖² − ‖ḡ‖²)·b·k/(k − 1),
 * where ḡ is the mean of the micro-batch gradients (the gradient of the whole batch B = k·b).
 * Both are unbiased; either can come out negative on a single batch, hence the moving averages.
 */
export function noiseScaleTerms(meanOfSquaredNorms: number, squaredNormOfMean: number, k: number, b: number): { gradSq: number; traceSigma: number } {
  if (k < 2) throw new Error('the noise scale needs at least 2 micro-batches');
  return {
    gradSq: (k * squaredNormOfMean - meanOfSquaredNorms) / (k - 1),
    traceSigma: ((meanOfSquaredNorms - squaredNormOfMean) * b * k) / (k - 1),
  };
}

/** Exponential moving averages of |G|² and tr Σ; their ratio is the simple noise scale. */
export class NoiseScaleEstimator {
  private g = 0;
  private s = 0;
  private weight = 0;
  samples = 0;

  constructor(private readonly decay = 0.9) {}

  add(gradSq: number, traceSigma: number): void {
    if (!Number.isFinite(gradSq) || !Number.isFinite(traceSigma)) return;
    this.g = this.decay * this.g + (1 - this.decay) * gradSq;
    this.s = this.decay * this.s + (1 - this.decay) * traceSigma;
    this.weight = this.decay * this.weight + (1 - this.decay);
    this.samples++;
  }

  get gradSq(): number {
    return this.weight ? this.g / this.weight : NaN;
  }

  get traceSigma(): number {
    return this.weight ? this.s / this.weight : NaN;
  }

  /** B_simple = tr Σ / |G|²; NaN until there is data, +∞ when the signal is lost in noise. */
  get noiseScale(): number {
    if (!this.weight) return NaN;
    const g = this.gradSq;
    const s = Math.max(this.traceSigma, 0);
    return g > 0 ? s / g : Number.POSITIVE_INFINITY;
  }
}

/**
 * Statistical efficiency of batch B relative to B₀ (Pollux): the progress per sample at B
 * compared with B₀, for a learning rate scaled with the batch. 1 at B₀, falling towards φ/B.
 */
export function efficiency(batch: number, baseBatch: number, noiseScale: number): number {
  if (!Number.isFinite(noiseScale)) return 1;
  const phi = Math.max(noiseScale, 0);
  return (phi + baseBatch) / (phi + batch);
}

/** Goodput: useful samples per second = throughput × efficiency. */
export function goodput(samplesPerSecond: number, batch: number, baseBatch: number, noiseScale: number): number {
  return samplesPerSecond * efficiency(batch, baseBatch, noiseScale);
}

/** With t(B) = α + βB and E as above, goodput peaks near √(αφ/β) (for B₀ ≪ φ). */
export function goodputOptimum(alpha: number, beta: number, noiseScale: number): number {
  if (beta <= 0 || alpha <= 0 || !Number.isFinite(noiseScale)) return Number.POSITIVE_INFINITY;
  return Math.sqrt((alpha * Math.max(noiseScale, 0)) / beta);
}

/** Learning rate for batch B from a known good (B₀, η₀): linear for SGD, square root for Adam. */
export function scaleLearningRate(baseRate: number, baseBatch: number, batch: number, optimizer: 'adam' | 'sgd'): number {
  const ratio = batch / baseBatch;
  return optimizer === 'sgd' ? baseRate * ratio : baseRate * Math.sqrt(ratio);
}

/** Warm-up steps: a few percent of the run's steps, more when the rate was scaled up a lot. */
export function warmupSteps(totalSteps: number, rateRatio: number): number {
  if (rateRatio <= 1) return 0;
  const share = Math.min(0.1, 0.02 * Math.log2(rateRatio) + 0.02);
  return Math.max(1, Math.round(totalSteps * share));
}

/** Predicted speed-up of K data-parallel workers at per-worker batch B: K·X·E(K·B)/(X·E(B)). */
export function scaleOutSpeedup(workers: number, batch: number, noiseScale: number): number {
  return workers * efficiency(workers * batch, batch, noiseScale);
}

/** One window of a noise probe: where it ended in training, its loss and its noise scale. */
export interface NoiseWindow {
  /** Samples trained before the end of the window. */
  samples: number;
  loss: number;
  noiseScale: number;
}

/**
 * Bounds on the loss exponent: a handful of windows early in training must not make a wild
 * forecast, and the loss falls faster in the first epoch than it will later (on the MNIST
 * sample it falls as about n^−0.7…−0.8 from the second epoch on, faster before).
 */
export const LOSS_EXPONENT_RANGE = [0, 0.7] as const;
/**
 * Bounds on a measured growth exponent of the noise scale. The top is the simple model's rate
 * (below): three short windows at the start of training, where the loss falls fastest, can fit
 * φ ∝ L^−2 and more, and carrying that rate to the middle of the run overshoots (with the rate
 * the range test finds, a 10-epoch forecast reached φ ≈ 2 600 and a batch of 192 whose short
 * trial lost clearly to 96; at most L^−1 it is ≈ 700).
 */
export const GROWTH_EXPONENT_RANGE = [0, 1] as const;
/**
 * The growth exponent when the windows cannot show one (φ not clearly growing, or too little
 * loss range): McCandlish et al.'s simple model, where tr Σ stays about constant while |G|²
 * shrinks with the loss, gives φ ∝ 1/L.
 */
export const PRIOR_GROWTH_EXPONENT = 1;

const clamp = (x: number, [lo, hi]: readonly [number, number]) => Math.min(hi, Math.max(lo, x));

/**
 * The noise scale later in training, from how it grew over a probe's windows. The noise scale
 * grows as the loss falls (McCandlish et al. 2018, "An Empirical Model of Large-Batch
 * Training": the critical batch rises through training), so one measured in the first epoch
 * undersells large batches for a whole run. Two power laws, fitted in log–log space:
 *   the loss against samples seen, L(n) = c·n^(−p), extrapolated to `atSamples`;
 *   the noise scale against the loss, φ = d·L^(−q), evaluated at that loss.
 * p is clamped to LOSS_EXPONENT_RANGE. q is the fitted one when the windows show φ growing
 * cleanly (r² ≥ 0.8 over a loss range of at least 1.5×), clamped to GROWTH_EXPONENT_RANGE, and
 * PRIOR_GROWTH_EXPONENT otherwise. The forecast is never below the last measured φ. Null
 * without two usable windows.
 */
export function forecastNoiseScale(windows: readonly NoiseWindow[], atSamples: number): NoiseForecast | null {
  const usable = windows.filter((w) => w.samples > 0 && w.loss > 0 && Number.isFinite(w.loss) && w.noiseScale > 0 && Number.isFinite(w.noiseScale));
  if (usable.length < 2) return null;
  const last = usable[usable.length - 1]!;
  const logN = usable.map((w) => Math.log(w.samples));
  const logL = usable.map((w) => Math.log(w.loss));
  const logPhi = usable.map((w) => Math.log(w.noiseScale));
  const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  const p = spread(logN) > 1e-9 ? clamp(-fitLine(logN, logL).b, LOSS_EXPONENT_RANGE) : 0;
  let q = PRIOR_GROWTH_EXPONENT;
  let growthMeasured = false;
  if (spread(logL) >= Math.log(1.5)) {
    const fit = fitLine(logL, logPhi);
    if (-fit.b > 0 && fit.r2 >= 0.8) {
      q = clamp(-fit.b, GROWTH_EXPONENT_RANGE);
      growthMeasured = true;
    }
  }
  const target = Math.max(atSamples, last.samples);
  const loss = last.loss * (target / last.samples) ** -p;
  const noiseScale = Math.max(last.noiseScale, last.noiseScale * (loss / last.loss) ** -q);
  return { measured: last.noiseScale, measuredLoss: last.loss, atSamples: target, loss, noiseScale, lossExponent: p, growthExponent: q, growthMeasured };
}

/**
 * The batch to take from goodput scores: the smallest whose goodput is at least `tie` × the best
 * (scores that close are a tie within the noise of timings and of the noise scale). Also returns
 * the batch with the highest goodput.
 */
export function pickByGoodput(scored: readonly { batchSize: number; goodput: number }[], tie: number): { chosen: number; best: number } {
  const finite = scored.filter((s) => Number.isFinite(s.goodput));
  if (finite.length === 0) throw new Error('no goodput to choose from');
  const best = finite.reduce((a, s) => (s.goodput > a.goodput ? s : a));
  const chosen = finite.filter((s) => s.goodput >= tie * best.goodput).sort((a, b) => a.batchSize - b.batchSize)[0]!;
  return { chosen: chosen.batchSize, best: best.batchSize };
}
