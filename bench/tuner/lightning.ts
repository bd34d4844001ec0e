// The Auto-tune benchmark's baselines as PyTorch Lightning's tuners behave (lightning 2.x,
// src/lightning/pytorch/tuner/lr_finder.py and batch_size_scaling.py), so that "(b)" and "(c)"
// are what a Lightning user gets, quirks included, not a tidied-up version of them.

/** `Tuner.lr_find` defaults: an exponential ramp over 100 steps from 1e-8 to 1. */
export const LR_FIND = { minRate: 1e-8, maxRate: 1, steps: 100, earlyStopThreshold: 4, beta: 0.98, skipBegin: 10, skipEnd: 1 } as const;

/**
 * The losses `_LRCallback` records: an exponential moving average with Lightning's bias
 * correction — divided by 1 − β^(step+1) where step is the global step after the update, so one
 * power more than the textbook correction — cut after the step where the smoothed loss exceeds
 * 4× the best so far (the callback records that step, then stops the loop). Non-finite losses
 * pass through as NaN (the comparisons are false, so they neither stop the ramp nor count as best).
 */
export function lightningRecordedLosses(raw: readonly number[], o: { beta?: number; earlyStopThreshold?: number } = {}): number[] {
  const beta = o.beta ?? LR_FIND.beta;
  const threshold = o.earlyStopThreshold ?? LR_FIND.earlyStopThreshold;
  const out: number[] = [];
  let avg = 0;
  let best = 0;
  for (let i = 0; i < raw.length; i++) {
    const step = i + 1; // trainer.global_step in on_train_batch_end
    avg = beta * avg + (1 - beta) * raw[i]!;
    const smoothed = avg / (1 - beta ** (step + 1));
    out.push(smoothed);
    const stop = step > 1 && smoothed > threshold * best;
    if (smoothed < best || step === 1) best = smoothed;
    if (stop) break;
  }
  return out;
}

/**
 * `torch.gradient(y, spacing=[x])` along one dimension with edge_order 1: second-order central
 * differences for unevenly spaced points inside, one-sided differences at both ends.
 */
export function gradientAt(y: readonly number[], x: readonly number[]): number[] {
  const n = y.length;
  if (n < 2) return [];
  const g = new Array<number>(n);
  g[0] = (y[1]! - y[0]!) / (x[1]! - x[0]!);
  g[n - 1] = (y[n - 1]! - y[n - 2]!) / (x[n - 1]! - x[n - 2]!);
  for (let i = 1; i < n - 1; i++) {
    const hl = x[i]! - x[i - 1]!;
    const hr = x[i + 1]! - x[i]!;
    g[i] = (hl * hl * y[i + 1]! - hr * hr * y[i - 1]! + (hr * hr - hl * hl) * y[i]!) / (hl * hr * (hl + hr));
  }
  return g;
}

/**
 * `_LRFinder.suggestion()`: the rate at the steepest fall of the recorded (smoothed) loss, after
 * skipping the first 10 points and the last one, non-finite points dropped; null when fewer than
 * 2 remain. `against`:
 *  - 'rate', as Lightning 2.x computes it (`torch.gradient(losses, spacing=[lrs])`): the slope
 *    against the rate itself, whose tiny steps at the start of an exponential ramp magnify noise
 *    (Lightning's own TODO says to use log(lrs));
 *  - 'log-rate', as Lightning 1.x (`np.gradient(loss).argmin()`) and fastai read it: the slope
 *    per ramp step, i.e. against log(rate) — the classic "steepest point" of the plot.
 */
export function lightningSuggestion(rates: readonly number[], recorded: readonly number[], against: 'rate' | 'log-rate'): number | null {
  const n = Math.min(rates.length, recorded.length);
  const idx: number[] = [];
  for (let i = LR_FIND.skipBegin; i < n - LR_FIND.skipEnd; i++) if (Number.isFinite(recorded[i]!)) idx.push(i);
  if (idx.length < 2) return null;
  const g = gradientAt(
    idx.map((i) => recorded[i]!),
    idx.map((i) => (against === 'rate' ? rates[i]! : i)),
  );
  let at = 0;
  for (let j = 1; j < g.length; j++) if (g[j]! < g[at]!) at = j;
  return rates[idx[at]!]!;
}

/**
 * Where Lightning's power-mode batch finder ends when memory is no limit: it doubles from 2 while
 * a batch fits, and its `_adjust_batch_size` clamps a batch to the training set's length; the
 * issue's baseline keeps the largest power of two within it. Where a batch does not fit, the
 * runner halves from here (the finder would have stopped below it).
 */
export function largestPowerOfTwo(limit: number): number {
  let b = 1;
  while (b * 2 <= limit) b *= 2;
  return b;
}
