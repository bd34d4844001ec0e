import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../../src/shared/random.js';
import {
  efficiency,
  fitLine,
  forecastNoiseScale,
  GROWTH_EXPONENT_RANGE,
  LOSS_EXPONENT_RANGE,
  PRIOR_GROWTH_EXPONENT,
  goodput,
  goodputOptimum,
  pickByGoodput,
  NoiseScaleEstimator,
  noiseScaleTerms,
  predictMemoryCeiling,
  scaleLearningRate,
  warmupSteps,
} from '../../../src/shared/tuner-math.js';

test('fitLine recovers a line and predicts the memory ceiling', () => {
  const xs = [1, 2, 4, 8, 16];
  const fit = fitLine(
    xs,
    xs.map((x) => 1000 + 250 * x),
  );
  assert.ok(Math.abs(fit.a - 1000) < 1e-6 && Math.abs(fit.b - 250) < 1e-9 && Math.abs(fit.r2 - 1) < 1e-12);
  assert.equal(predictMemoryCeiling(fit, 1000 + 250 * 300 + 10), 300);
  assert.equal(predictMemoryCeiling(fit, 500), 0);
});

test('efficiency and goodput follow Pollux', () => {
  assert.equal(efficiency(32, 32, 100), 1);
  assert.ok(Math.abs(efficiency(132, 32, 100) - 132 / 232) < 1e-12);
  assert.equal(efficiency(4096, 32, Infinity), 1, 'pure noise: every batch is equally efficient');
  assert.equal(goodput(1000, 32, 32, 100), 1000);
  // t(B) = α + βB: goodput's maximum over B sits near √(αφ/β).
  const alpha = 0.01,
    beta = 1e-4,
    phi = 400;
  const best = goodputOptimum(alpha, beta, phi);
  let argmax = 0,
    top = 0;
  for (let b = 1; b <= 4096; b++) {
    const g = goodput(b / (alpha + beta * b), b, 1, phi);
    if (g > top) {
      top = g;
      argmax = b;
    }
  }
  assert.ok(Math.abs(argmax - best) / best < 0.15, `argmax ${argmax} vs √(αφ/β) ${best}`);
});

test('learning-rate scaling: linear for SGD, square root for Adam; warm-up grows with the ratio', () => {
  assert.equal(scaleLearningRate(0.1, 32, 128, 'sgd'), 0.4);
  assert.equal(scaleLearningRate(1e-3, 32, 128, 'adam'), 2e-3);
  assert.equal(warmupSteps(1000, 1), 0);
  assert.ok(warmupSteps(1000, 2) > 0 && warmupSteps(1000, 16) > warmupSteps(1000, 2));
  assert.ok(warmupSteps(1000, 1e6) <= 100);
});

// Least squares with Gaussian inputs and label noise: per-sample gradient g = x(xᵀΔ − ε),
// with Δ = w − w*, x ~ N(0, I_d), ε ~ N(0, σ²). In closed form |G|² = |Δ|² and
// tr Σ = (d + 1)|Δ|² + dσ².
test('the two-batch estimators recover |G|² and tr Σ of least squares within 20 %', () => {
  const rng = createRng(11);
  const gauss = () => Math.sqrt(-2 * Math.log(rng() + 1e-300)) * Math.cos(2 * Math.PI * rng());
  const d = 20,
    sigma = 1.5,
    k = 8,
    b = 16;
  const delta = Array.from({ length: d }, () => 0.3 * gauss());
  const deltaSq = delta.reduce((s, v) => s + v * v, 0);
  const truth = { gradSq: deltaSq, traceSigma: (d + 1) * deltaSq + d * sigma * sigma };
  const est = new NoiseScaleEstimator(0.98);
  for (let step = 0; step < 1500; step++) {
    const micro: number[][] = [];
    for (let i = 0; i < k; i++) {
      const g = new Array<number>(d).fill(0);
      for (let n = 0; n < b; n++) {
        const x = Array.from({ length: d }, gauss);
        const r = x.reduce((s, xi, j) => s + xi * delta[j]!, 0) - sigma * gauss();
        for (let j = 0; j < d; j++) g[j]! += (x[j]! * r) / b;
      }
      micro.push(g);
    }
    const mean = delta.map((_, j) => micro.reduce((s, g) => s + g[j]!, 0) / k);
    const meanSq = micro.reduce((s, g) => s + g.reduce((t, v) => t + v * v, 0), 0) / k;
    const sqMean = mean.reduce((s, v) => s + v * v, 0);
    const t = noiseScaleTerms(meanSq, sqMean, k, b);
    est.add(t.gradSq, t.traceSigma);
  }
  const relErr = (a: number, b: number) => Math.abs(a - b) / b;
  assert.ok(relErr(est.gradSq, truth.gradSq) < 0.2, `|G|² ${est.gradSq} vs ${truth.gradSq}`);
  assert.ok(relErr(est.traceSigma, truth.traceSigma) < 0.2, `tr Σ ${est.traceSigma} vs ${truth.traceSigma}`);
  const phi = truth.traceSigma / truth.gradSq;
  assert.ok(relErr(est.noiseScale, phi) < 0.3, `φ ${est.noiseScale} vs ${phi}`);
});

describe('forecastNoiseScale', () => {
  // Exact power laws: L = 3·n^−0.5 and φ = 10·L^−0.8; the forecast must recover both.
  const loss = (n: number) => 3 * n ** -0.5;
  const phi = (l: number) => 10 * l ** -0.8;
  const windows = [700, 1600, 2600].map((n) => ({ samples: n, loss: loss(n), noiseScale: phi(loss(n)) }));

  it('recovers the exponents and forecasts φ at a later point', () => {
    const f = forecastNoiseScale(windows, 40_000)!;
    assert.ok(Math.abs(f.lossExponent - 0.5) < 1e-9);
    assert.equal(f.growthMeasured, true);
    assert.ok(Math.abs(f.growthExponent - 0.8) < 1e-9);
    assert.ok(Math.abs(f.loss - loss(40_000)) / loss(40_000) < 1e-9);
    assert.ok(Math.abs(f.noiseScale - phi(loss(40_000))) / phi(loss(40_000)) < 1e-9);
    assert.equal(f.measured, windows[2]!.noiseScale);
  });

  it('falls back to the prior exponent when φ is not seen to grow, and clamps wild exponents', () => {
    // φ falling as the loss falls (noise in a short probe): the prior φ ∝ 1/L is used instead.
    const falling = windows.map((w, i) => ({ ...w, noiseScale: 100 / (i + 1) }));
    const f = forecastNoiseScale(falling, 40_000)!;
    assert.equal(f.growthMeasured, false);
    assert.equal(f.growthExponent, PRIOR_GROWTH_EXPONENT);
    assert.ok(Math.abs(f.noiseScale - (falling[2]!.noiseScale * falling[2]!.loss) / f.loss) < 1e-6);
    // A loss falling faster than the range allows is clamped.
    const fast = windows.map((w) => ({ ...w, loss: 1e4 / w.samples }));
    assert.equal(forecastNoiseScale(fast, 40_000)!.lossExponent, LOSS_EXPONENT_RANGE[1]);
    // φ rising 1000× per halving of the loss: clamped to the top of the range.
    const steep = windows.map((w) => ({ ...w, noiseScale: w.loss ** -10 }));
    assert.equal(forecastNoiseScale(steep, 40_000)!.growthExponent, GROWTH_EXPONENT_RANGE[1]);
  });

  it('needs two usable windows', () => {
    assert.equal(forecastNoiseScale(windows.slice(0, 1), 40_000), null);
    assert.equal(forecastNoiseScale([windows[0]!, { samples: 2000, loss: NaN, noiseScale: 5 }], 40_000), null);
    assert.equal(forecastNoiseScale([windows[0]!, { samples: 2000, loss: 0.5, noiseScale: Infinity }], 40_000), null);
  });
});

describe('pickByGoodput', () => {
  const scored = [
    { batchSize: 32, goodput: 3500 },
    { batchSize: 64, goodput: 3700 },
    { batchSize: 128, goodput: 3760 },
    { batchSize: 256, goodput: 3600 },
  ];
  it('takes the smallest batch within the tie of the best', () => {
    assert.deepEqual(pickByGoodput(scored, 0.95), { chosen: 64, best: 128 });
    assert.deepEqual(pickByGoodput(scored, 0.9), { chosen: 32, best: 128 });
    assert.deepEqual(pickByGoodput(scored, 1), { chosen: 128, best: 128 });
  });
  it('a clear winner is taken whatever its size', () => {
    const gpu = [
      { batchSize: 32, goodput: 1000 },
      { batchSize: 256, goodput: 6000 },
      { batchSize: 1024, goodput: 9000 },
    ];
    assert.deepEqual(pickByGoodput(gpu, 0.95), { chosen: 1024, best: 1024 });
  });
  it('ignores non-finite scores and refuses an empty list', () => {
    assert.deepEqual(
      pickByGoodput(
        [
          { batchSize: 8, goodput: NaN },
          { batchSize: 16, goodput: 5 },
        ],
        0.95,
      ),
      { chosen: 16, best: 16 },
    );
    assert.throws(() => pickByGoodput([], 0.95), /no goodput/);
  });
});
