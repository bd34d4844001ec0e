// Reading a learning-rate range test: the smoothing is unbiased from the first step, the
// steepest point of a known curve is found (exactly without smoothing; a few steps later with
// it, which the suggestion's factor was calibrated with), noise does not move it far, and curves
// without a clear fall give no suggestion.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../../src/shared/random.js';
import { SmoothedLoss, STEEPEST_TO_TRAINING, suggestLearningRate } from '../../../src/shared/learning-rate-range.js';

/** The probe's ramp: n rates from lo to hi, geometric. */
const ramp = (n: number, lo: number, hi: number) => Array.from({ length: n }, (_, i) => lo * (hi / lo) ** (i / (n - 1)));

/**
 * A loss that falls as a logistic step in log(rate), steepest at `steep`, then blows up past
 * `edge`: the shape a range test draws.
 */
function curve(rates: number[], steep: number, edge: number): number[] {
  return rates.map((r) => {
    const fall = 2.3 - 1.8 / (1 + Math.exp(-(Math.log(r) - Math.log(steep)) / 0.6));
    return r <= edge ? fall : fall * (r / edge) ** 3;
  });
}

describe('SmoothedLoss', () => {
  it('is unbiased from the first value and tracks the lowest', () => {
    const s = new SmoothedLoss(0.9);
    for (let i = 0; i < 5; i++) assert.ok(Math.abs(s.add(2) - 2) < 1e-12);
    s.add(0);
    assert.ok(s.lowest < 2 && s.lowest > 0);
  });
});

describe('suggestLearningRate', () => {
  const rates = ramp(40, 1e-4, 0.3);

  it('finds the steepest point of an exact curve without smoothing, and suggests a third of it', () => {
    const steep = 1e-2;
    const s = suggestLearningRate(rates, curve(rates, steep, 0.1), 0)!;
    const stepRatio = rates[1]! / rates[0]!;
    assert.ok(s.steepestRate / steep < stepRatio && steep / s.steepestRate < stepRatio, `steepest ${s.steepestRate}`);
    assert.ok(Math.abs(s.rate - s.steepestRate * STEEPEST_TO_TRAINING) < 1e-15);
    assert.ok(s.minimumRate > s.steepestRate && s.minimumRate <= 0.1 * stepRatio);
    assert.equal(s.smoothed.length, rates.length);
  });

  it('with the default smoothing the point lags by a few steps, never before the true one', () => {
    const steep = 3e-3;
    const s = suggestLearningRate(rates, curve(rates, steep, 0.1))!;
    assert.ok(s.steepestRate >= steep / 1.3 && s.steepestRate <= steep * 3, `steepest ${s.steepestRate}`);
  });

  it('moves less than 2× with 5 % noise on every step', () => {
    const clean = suggestLearningRate(rates, curve(rates, 1e-2, 0.1))!.rate;
    for (let seed = 1; seed <= 5; seed++) {
      const rng = createRng(seed);
      const noisy = curve(rates, 1e-2, 0.1).map((l) => l * (1 + 0.1 * (rng() - 0.5)));
      const s = suggestLearningRate(rates, noisy)!;
      assert.ok(s.rate / clean < 2 && clean / s.rate < 2, `seed ${seed}: ${s.rate} vs ${clean}`);
    }
  });

  it('stops at the first non-finite loss and still reads the curve before it', () => {
    const losses = curve(rates, 1e-2, 0.1);
    const cut = 34;
    const diverged = losses.map((l, i) => (i < cut ? l : i === cut ? NaN : Infinity));
    const s = suggestLearningRate(rates, diverged)!;
    assert.equal(s.smoothed.length, cut);
    assert.ok(s.rate < rates[cut]!);
  });

  it('gives no suggestion for a flat or rising curve, or too few steps', () => {
    assert.equal(
      suggestLearningRate(
        rates,
        rates.map(() => 2.3),
      ),
      null,
    );
    assert.equal(
      suggestLearningRate(
        rates,
        rates.map((r) => 2.3 + r),
      ),
      null,
    );
    assert.equal(suggestLearningRate(rates.slice(0, 5), curve(rates, 1e-2, 0.1).slice(0, 5)), null);
  });
});
