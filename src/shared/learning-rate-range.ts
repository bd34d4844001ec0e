// Reading a learning-rate range test (Smith 2017, "Cyclical learning rates"; the `lr_find` of
// fastai and Lightning): the training loss of one step at each rate of a geometric ramp. Where
// the loss falls fastest the rate is large enough to make progress and still small enough to be
// stable; past the lowest point it blows up. Pure functions, shared by the probe (its stop rule)
// and the tuner (the suggestion).

/** A bias-corrected exponential moving average of a loss series, and its lowest value so far. */
export class SmoothedLoss {
  private avg = 0;
  private n = 0;
  lowest = Infinity;
  constructor(private readonly beta: number) {}

  add(loss: number): number {
    this.n++;
    this.avg = this.beta * this.avg + (1 - this.beta) * loss;
    const value = this.avg / (1 - this.beta ** this.n);
    if (value < this.lowest) this.lowest = value;
    return value;
  }
}

export interface LearningRateSuggestion {
  /** The rate to train with: STEEPEST_TO_TRAINING × steepestRate. */
  rate: number;
  /** Where the smoothed loss falls fastest against log(rate). */
  steepestRate: number;
  /** The rate at the lowest smoothed loss: the edge of stability, far too large to train at. */
  minimumRate: number;
  /** Smoothed loss per step, for the chart (up to the first non-finite loss). */
  smoothed: number[];
}

/**
 * How far below the steepest point a whole run should train. The steepest point of a short ramp
 * is where one step gains the most; a run of thousands of steps at that rate sits too close to
 * the edge of stability and ends noisier. Half a decade below it is the classic advice for Adam
 * (and what the sweep in docs/benchmarks.md measured: the small CNN on MNIST reaches 97.5 % in
 * about the same time from 2e-3 to 8e-3 at batch 32, slower at 1e-3, while the steepest point of
 * four seeds' range tests was 0.9e-2 to 1.7e-2).
 */
export const STEEPEST_TO_TRAINING = 1 / 3;

/**
 * The rate to train with from a range test, or null when the curve shows no clear fall (the loss
 * never fell by 5 %, or there are too few steps to tell).
 *
 * The steepest point is found by a least-squares slope of the smoothed loss against log(rate)
 * over a sliding window (a single step's slope, Lightning's suggestion, is at the mercy of noise);
 * only windows before the lowest point count. Of the readings tried on the small CNN (the
 * steepest point, a tenth of the minimum, fastai's valley), this one varied least across seeds
 * (less than 2×, against 5× for the minimum).
 */
export function suggestLearningRate(rates: readonly number[], losses: readonly number[], beta = 0.9): LearningRateSuggestion | null {
  const smoothed: number[] = [];
  const s = new SmoothedLoss(beta);
  for (let i = 0; i < Math.min(rates.length, losses.length); i++) {
    if (!Number.isFinite(losses[i]!) || !(rates[i]! > 0)) break;
    smoothed.push(s.add(losses[i]!));
  }
  if (smoothed.length < 8) return null;
  let iMin = 0;
  for (let i = 1; i < smoothed.length; i++) if (smoothed[i]! < smoothed[iMin]!) iMin = i;
  if (smoothed[iMin]! > 0.95 * smoothed[0]!) return null;
  const half = Math.max(2, Math.round(smoothed.length / 16));
  let best = { slope: 0, at: -1 };
  for (let c = half; c + half <= iMin; c++) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let j = c - half; j <= c + half; j++) {
      xs.push(Math.log(rates[j]!));
      ys.push(smoothed[j]!);
    }
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxy = 0;
    let sxx = 0;
    for (let j = 0; j < xs.length; j++) {
      sxy += (xs[j]! - mx) * (ys[j]! - my);
      sxx += (xs[j]! - mx) ** 2;
    }
    const slope = sxx > 0 ? sxy / sxx : 0;
    if (slope < best.slope) best = { slope, at: c };
  }
  if (best.at < 0) return null;
  const steepestRate = rates[best.at]!;
  const minimumRate = rates[iMin]!;
  return { rate: Math.min(steepestRate, minimumRate) * STEEPEST_TO_TRAINING, steepestRate, minimumRate, smoothed };
}
