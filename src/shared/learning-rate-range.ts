// Reading a learning-rate range test (Smith 2017, "Cyclical learning rates"; the `lr_find` of
// fastai and Lightning): the training loss of one step at each rate of a geometric ramp. Where
// the loss falls fastest the rate is large enough to make progress and still small enough to be
// stable; past the lowest point it blows up. Pure functions, shared by the probe (its stop rule)
// and the tuner (the suggestion).

/** Smoothing of the range test's curve, for the probe's stop rule and for reading it alike. */
export const RANGE_TEST_SMOOTHING = 0.9;

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
  /** Where the smoothed loss falls fastest against log(rate): where it is halfway down. */
  steepestRate: number;
  /** The rate at the lowest smoothed loss: the edge of stability, far too large to train at. */
  minimumRate: number;
  /** Smoothed loss per step, for the chart (up to the first non-finite loss). */
  smoothed: number[];
}

/**
 * How far below the steepest point a whole run should train. The steepest point of a short ramp
 * is where one step gains the most; a run of thousands of steps at that rate sits too close to
 * the edge of stability and ends noisier. Half a decade below it is the classic advice for Adam,
 * and what the learning-rate sweep in docs/benchmarks.md measured: the small CNN on MNIST trains
 * about equally fast over a band of rates a few times below the range tests' steepest points,
 * slower below that band, and not at all near the steepest point itself.
 */
export const STEEPEST_TO_TRAINING = 1 / 3;

/**
 * The rate to train with from a range test, or null when the curve shows no clear fall (the loss
 * never fell by 5 %, or there are too few steps to tell).
 *
 * The steepest point is read as the rate where the smoothed loss is halfway down from its start
 * to its lowest point (interpolated in log(rate)). On the S-shaped fall a range test draws, that
 * is the point of steepest descent, and finding a level crossing is far steadier than finding a
 * slope: a sliding-window slope (and Lightning's single-step one) latched onto noise near the
 * edge on some ramps, reading a rate an order of magnitude too high, and the rate at the lowest
 * loss moved several-fold between seeds (docs/benchmarks.md).
 */
export function suggestLearningRate(rates: readonly number[], losses: readonly number[], beta = RANGE_TEST_SMOOTHING): LearningRateSuggestion | null {
  const smoothed: number[] = [];
  const s = new SmoothedLoss(beta);
  for (let i = 0; i < Math.min(rates.length, losses.length); i++) {
    if (!Number.isFinite(losses[i]!) || !(rates[i]! > 0)) break;
    smoothed.push(s.add(losses[i]!));
  }
  if (smoothed.length < 8) return null;
  let iMin = 0;
  for (let i = 1; i < smoothed.length; i++) if (smoothed[i]! < smoothed[iMin]!) iMin = i;
  // The starting level: the first three smoothed points (one batch's loss alone is noisy).
  const start = (smoothed[0]! + smoothed[1]! + smoothed[2]!) / 3;
  if (smoothed[iMin]! > 0.95 * start) return null;
  const half = (start + smoothed[iMin]!) / 2;
  let at = -1;
  for (let i = 1; i <= iMin; i++) {
    if (smoothed[i]! <= half) {
      // Between steps i−1 (above half) and i (at or below), linearly in log(rate).
      const above = smoothed[i - 1]!;
      const f = above > smoothed[i]! ? (above - half) / (above - smoothed[i]!) : 1;
      at = i - 1 + Math.min(1, Math.max(0, f));
      break;
    }
  }
  if (at < 0) return null;
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, rates.length - 1);
  const steepestRate = Math.exp(Math.log(rates[lo]!) + (at - lo) * (Math.log(rates[hi]!) - Math.log(rates[lo]!)));
  const minimumRate = rates[iMin]!;
  return { rate: Math.min(steepestRate, minimumRate) * STEEPEST_TO_TRAINING, steepestRate, minimumRate, smoothed };
}
