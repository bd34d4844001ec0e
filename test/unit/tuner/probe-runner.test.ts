// The probe runner on the cpu backend and a 300-sample MNIST: memory grows linearly with the
// batch, every probe leaves the weights and the tensor count as they were, throughput, noise and
// trial give sane numbers, and on the memory-capped backend an over-the-cap memory probe fails
// as out of memory while the next one under the cap succeeds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fitLine } from '../../../src/shared/tuner-math.js';
import { importDataset, loadDataset, type LoadedDataset } from '../../../src/main/engine/datasets/index.js';
import { activateCappedBackend, setMemoryCap } from '../../../src/main/engine/tuner/capped-backend.js';
import { classifyProbeFailure } from '../../../src/main/engine/tuner/probe-failure.js';
import { MIN_TRIAL_STEPS, ProbeRunner } from '../../../src/main/engine/tuner/probe-runner.js';

let tmp = '';
let ds: LoadedDataset;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'probe-runner-'));
  await importDataset('sample:mnist', { limit: 300 }, path.join(tmp, 'mnist'));
  ds = loadDataset(path.join(tmp, 'mnist'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `probe` and checks that it left the weights and the live tensors exactly as they were. */
async function unchanged<T>(runner: ProbeRunner, probe: () => Promise<T>): Promise<T> {
  const weights = await runner.weightValues();
  const tensors = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  let result: T;
  try {
    result = await probe();
  } finally {
    assert.equal(tf.memory().numTensors, tensors, 'the probe left tensors behind');
    assert.equal(tf.memory().numBytes, bytes);
    const now = await runner.weightValues();
    now.forEach((w, i) => assert.deepEqual(w, weights[i], `weight ${i} changed`));
  }
  return result;
}

test('memory on cpu: grows linearly with the batch, the same again gives the same, weights untouched', { timeout: 60_000 }, async () => {
  await tf.setBackend('cpu');
  const runner = new ProbeRunner({ dataset: ds, model: 'small', optimizer: 'adam', seed: 7 });
  try {
    const sizes = [1, 2, 4, 8, 16];
    const peaks: number[] = [];
    const gradientPeaks: number[] = [];
    for (const b of sizes) {
      const m = await unchanged(runner, () => runner.memory(b));
      assert.equal(m.kind, 'memory');
      assert.ok(m.peakBytes > 0 && m.stepMs > 0 && m.peakBytes === m.engineBytes && m.backendBytes === undefined);
      assert.equal(Math.max(m.gradientBytes!, m.updateBytes!), m.engineBytes, 'the two phases make up the step');
      peaks.push(m.peakBytes);
      gradientPeaks.push(m.gradientBytes!);
    }
    const fit = fitLine(sizes, peaks);
    assert.ok(fit.r2 > 0.99, `m(B) is linear: r² ${fit.r2} (${peaks.join(', ')})`);
    assert.ok(fit.b > 0 && fit.a > 0, `intercept ${fit.a}, slope ${fit.b}`);
    const gradientFit = fitLine(sizes, gradientPeaks);
    assert.ok(gradientFit.r2 > 0.99 && gradientFit.b > 0, `gradient phase: ${gradientPeaks.join(', ')}`);
    // The same probe again gives the same figure: nothing carried over (optimizer state, weights).
    assert.equal((await runner.memory(4)).peakBytes, peaks[2]);
  } finally {
    runner.dispose();
  }
});

// The pure-JS cpu backend needs ~0.1 s per sample for the CNN's backward pass: the MLP keeps this short.
test('throughput, noise and trial on cpu: sane numbers, weights untouched, trials repeatable', { timeout: 60_000 }, async () => {
  await tf.setBackend('cpu');
  const runner = new ProbeRunner({ dataset: ds, model: 'mlp', optimizer: 'adam', seed: 7 });
  try {
    const t = await unchanged(runner, () => runner.throughput(8, 1, 3));
    assert.equal(t.kind, 'throughput');
    assert.ok(t.secondsPerStep > 0 && t.samplesPerSecond > 0);
    assert.ok(Math.abs(t.samplesPerSecond * t.secondsPerStep - 8) < 1e-6);

    const n = await unchanged(runner, () => runner.noise(4, 4, 6, 1e-3));
    assert.equal(n.kind, 'noise');
    assert.equal(n.steps, 6);
    assert.ok(Number.isFinite(n.gradSq) && n.traceSigma > 0, JSON.stringify(n));

    const trial = await unchanged(runner, () => runner.trial(16, 2e-3, 3, 0.5));
    assert.equal(trial.kind, 'trial');
    assert.ok(trial.steps >= MIN_TRIAL_STEPS && trial.losses.length === trial.steps && trial.samples === 16 * trial.steps);
    assert.ok(trial.losses.every(Number.isFinite));
    assert.ok(Number.isFinite(trial.valLoss) && trial.valAccuracy >= 0 && trial.valAccuracy <= 1);
    // Trials start from the same weights and data: their first losses are the same.
    const again = await runner.trial(16, 2e-3, 3, 0.1);
    assert.deepEqual(again.losses.slice(0, MIN_TRIAL_STEPS), trial.losses.slice(0, MIN_TRIAL_STEPS));
  } finally {
    runner.dispose();
  }
});

test('a diverging trial stops at the first non-finite loss and is reported, not thrown', { timeout: 60_000 }, async () => {
  await tf.setBackend('cpu');
  const runner = new ProbeRunner({ dataset: ds, model: 'mlp', optimizer: 'sgd', seed: 3 });
  try {
    const trial = await unchanged(runner, () => runner.trial(16, 1e8, 0, 5));
    const last = trial.losses.at(-1)!;
    assert.ok(!Number.isFinite(last), `diverged: ${trial.losses.join(', ')}`);
    assert.ok(trial.losses.slice(0, -1).every(Number.isFinite));
    assert.equal(trial.steps, trial.losses.length);
    assert.ok(Number.isNaN(trial.valLoss));
  } finally {
    runner.dispose();
  }
});

test(
  'the learning-rate range test: a geometric ramp of rates, one loss each, weights untouched; it stops once the loss blows up',
  { timeout: 60_000 },
  async () => {
    await tf.setBackend('cpu');
    const runner = new ProbeRunner({ dataset: ds, model: 'mlp', optimizer: 'adam', seed: 7 });
    try {
      const r = await unchanged(runner, () => runner.learningRateRange(16, 1e-4, 1e-1, 12, 4));
      assert.equal(r.kind, 'learning-rate');
      assert.equal(r.rates.length, r.losses.length);
      assert.ok(Math.abs(r.rates[0]! - 1e-4) < 1e-12);
      for (let i = 1; i < r.rates.length; i++) assert.ok(Math.abs(r.rates[i]! / r.rates[i - 1]! - 1e3 ** (1 / 11)) < 1e-9, 'geometric');
      assert.ok(r.losses.every(Number.isFinite));

      // SGD ramped to absurd rates diverges long before the ramp's end, and the test stops there.
      const sgd = new ProbeRunner({ dataset: ds, model: 'mlp', optimizer: 'sgd', seed: 3 });
      try {
        const wild = await unchanged(sgd, () => sgd.learningRateRange(16, 1e-3, 1e9, 200, 4));
        assert.ok(wild.losses.length < 200, `stopped after ${wild.losses.length} steps`);
        const last = wild.losses.at(-1)!;
        assert.ok(!Number.isFinite(last) || last > 4 * Math.min(...wild.losses.filter(Number.isFinite)), `blew up: ${last}`);
      } finally {
        sgd.dispose();
      }
    } finally {
      runner.dispose();
    }
  },
);

test('memory-capped cpu: a probe over the cap fails as oom, cleans up, and the next one fits', { timeout: 60_000 }, async () => {
  await activateCappedBackend('cpu', Number.POSITIVE_INFINITY);
  const runner = new ProbeRunner({ dataset: ds, model: 'small', optimizer: 'adam', seed: 7 });
  try {
    const small = await runner.memory(4);
    // peakBytes counts all the live bytes (weights, their snapshot, the step), as the cap does:
    // twice the figure at 4 leaves room for a batch of about 8, not 256.
    const cap = 2 * small.peakBytes;
    setMemoryCap(cap);
    const err = await unchanged(runner, () =>
      runner.memory(256).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    assert.ok(err instanceof Error, 'the big probe failed');
    const failure = classifyProbeFailure(err, tf.getBackend());
    assert.deepEqual([failure.cause, failure.fatal], ['oom', false], failure.message);
    assert.equal(tf.engine().state.profiling, false, 'profiling was switched off again');
    const again = await unchanged(runner, () => runner.memory(4));
    assert.equal(again.peakBytes, small.peakBytes);
    assert.ok((await runner.memory(8)).peakBytes <= cap);
    const t = await runner.throughput(4, 0, 2);
    assert.ok(t.samplesPerSecond > 0);
  } finally {
    setMemoryCap(Number.POSITIVE_INFINITY);
    runner.dispose();
  }
});
