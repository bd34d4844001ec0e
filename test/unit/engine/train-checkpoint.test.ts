// Checkpoints and resume in the tfjs training loop: a run stopped part-way (or killed after an
// epoch's checkpoint) and resumed from its checkpoint ends with exactly the weights of the same
// run uninterrupted — on cpu and wasm, with Adam (the app’s fused kernel on wasm) and SGD with momentum,
// with a batch-norm model — and its steps, told apart by attempt, cover each step number once.
// Also: two checkpoints kept, a partial folder ignored, a checkpoint of another model refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics, StepMetrics, TrainConfig } from '../../../src/shared/run-types.js';
import { importDataset, loadDataset, type LoadedDataset } from '../../../src/main/engine/datasets/index.js';
import { runTrainingLoop, type TrainLoopOptions } from '../../../src/main/engine/training/train-loop.js';
import { CheckpointError, latestCheckpoint, listCheckpoints } from '../../../src/main/engine/training/checkpoint-folder.js';
import { setUpBackends } from '../kernels/helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'train-checkpoint-'));
let digits: LoadedDataset;

before(async () => {
  await setUpBackends();
  await importDataset('sample:mnist', { limit: 120, imageSize: [12, 12] }, path.join(tmp, 'mnist12'));
  digits = loadDataset(path.join(tmp, 'mnist12'));
});

after(() => rmSync(tmp, { recursive: true, force: true }));

const base: TrainConfig = {
  model: 'small',
  batchSize: 16,
  epochs: 3,
  learningRate: 0.01,
  optimizer: 'adam',
  momentum: 0.9,
  warmupSteps: 3,
  backend: 'cpu',
  seed: 11,
  augment: 'light',
  validationsPerEpoch: 2,
};

interface Attempt {
  steps: StepMetrics[];
  epochs: EpochMetrics[];
  weights: Float32Array[];
  status: string;
}

let dirs = 0;
const freshDir = () => path.join(tmp, `ckpt-${++dirs}`);

/** One run; with stopAfter, a user's Stop once that many steps have been reported. */
async function attempt(config: TrainConfig, o: Partial<TrainLoopOptions> & { stopAfter?: number }): Promise<Attempt> {
  const steps: StepMetrics[] = [];
  const epochs: EpochMetrics[] = [];
  const r = await runTrainingLoop({
    dataset: digits,
    config,
    shouldStop: () => o.stopAfter !== undefined && steps.length >= o.stopAfter,
    onStep: (s) => steps.push(s),
    onEpoch: (e) => epochs.push(e),
    memoryBytes: () => 0,
    readbackIntervalMs: 0,
    ...o,
  });
  const weights = r.model.getWeights().map((w) => w.dataSync() as Float32Array);
  r.model.dispose();
  return { steps, epochs, weights, status: r.status };
}

function assertSameWeights(a: Float32Array[], b: Float32Array[], what: string): void {
  assert.equal(a.length, b.length);
  a.forEach((w, i) => assert.deepEqual(Array.from(w), Array.from(b[i]!), `${what}: weight ${i} differs`));
}

for (const backend of ['cpu', 'wasm'] as const) {
  for (const optimizer of ['adam', 'sgd'] as const) {
    test(`${backend}, ${optimizer}: stopped mid-epoch and resumed from its stop checkpoint, the same weights as uninterrupted; each step once`, async () => {
      await tf.setBackend(backend);
      // wasm trains a batch-norm model through the app's kernels.
      const config: TrainConfig = { ...base, backend, optimizer, model: backend === 'wasm' ? 'resnet-8' : 'small' };
      const whole = await attempt(config, { checkpoints: { dir: freshDir(), everySeconds: 3600 } });
      assert.equal(whole.status, 'completed');
      const perEpoch = Math.ceil(digits.trainIndex.length / config.batchSize);
      const total = perEpoch * config.epochs;
      assert.equal(whole.steps.length, total);

      const dir = freshDir();
      const cut = perEpoch + 2; // two steps into epoch 2
      const first = await attempt(config, { checkpoints: { dir, everySeconds: 3600 }, stopAfter: cut });
      assert.equal(first.status, 'stopped');
      assert.equal(first.steps.length, cut);
      const latest = latestCheckpoint(dir)!;
      assert.equal(latest.state.step, cut);
      assert.equal(latest.state.reason, 'stop');
      assert.equal(latest.state.epoch, 2);
      assert.equal(latest.state.batchInEpoch, 2);

      const second = await attempt(config, { checkpoints: { dir, everySeconds: 3600 }, resumeFrom: latest.dir });
      assert.equal(second.status, 'completed');
      assertSameWeights(second.weights, whole.weights, `${backend} ${optimizer}`);
      const numbers = [...first.steps, ...second.steps].map((s) => s.step);
      assert.deepEqual(
        numbers,
        Array.from({ length: total }, (_, i) => i + 1),
        'each step once, in order',
      );
      // The resumed attempt's losses and epoch metrics are the uninterrupted run's.
      assert.deepEqual(
        second.steps.map((s) => s.loss),
        whole.steps.slice(cut).map((s) => s.loss),
      );
      assert.deepEqual(
        [...first.epochs, ...second.epochs].map((e) => [e.epoch, e.step, e.valLoss, e.trainLoss]),
        whole.epochs.map((e) => [e.epoch, e.step, e.valLoss, e.trainLoss]),
      );
      // Its time axis goes on from the checkpoint's.
      assert.ok(second.steps[0]!.time >= first.steps.at(-1)!.time);
      assert.ok(listCheckpoints(dir).length <= 2);
    });
  }
}

test('resumed from an epoch-end checkpoint after a kill (the steps after it are redone): the same weights', async () => {
  await tf.setBackend('cpu');
  const whole = await attempt(base, {});
  const dir = freshDir();
  const perEpoch = Math.ceil(digits.trainIndex.length / base.batchSize);
  // Stands for a kill 3 steps into epoch 3: the newest checkpoint is the stop one; take epoch 2's end.
  await attempt(base, { checkpoints: { dir, everySeconds: 3600 }, maxSteps: 2 * perEpoch + 3 });
  const kept = listCheckpoints(dir);
  assert.deepEqual(
    kept.map((c) => c.step),
    [2 * perEpoch + 3, 2 * perEpoch],
    'the newest two: the stop and epoch 2',
  );
  const resumed = await attempt(base, { resumeFrom: kept[1]!.dir });
  assertSameWeights(resumed.weights, whole.weights, 'from epoch 2');
  assert.equal(resumed.steps[0]!.step, 2 * perEpoch + 1);
});

test('a partial folder (a kill during a write) is never taken for a checkpoint; the previous one is used', async () => {
  await tf.setBackend('cpu');
  const dir = freshDir();
  await attempt({ ...base, epochs: 1 }, { checkpoints: { dir, everySeconds: 3600 } });
  const before = listCheckpoints(dir);
  mkdirSync(path.join(dir, '.partial-step-000000999-1'));
  mkdirSync(path.join(dir, 'step-000000998')); // renamed but unreadable: no state.json
  assert.equal(latestCheckpoint(dir)!.dir, before[0]!.dir);
  // The next write removes other writers' partial folders and keeps two.
  await attempt({ ...base, epochs: 1 }, { checkpoints: { dir, everySeconds: 3600 } });
  assert.ok(!readdirSync(dir).some((n) => n.startsWith('.partial-')));
  assert.ok(listCheckpoints(dir).length <= 2);
});

test('a checkpoint of another model is refused with the reason, naming the folder', async () => {
  await tf.setBackend('cpu');
  const dir = freshDir();
  await attempt({ ...base, epochs: 1 }, { checkpoints: { dir, everySeconds: 3600 } });
  const c = latestCheckpoint(dir)!;
  await assert.rejects(
    attempt({ ...base, model: 'mlp' }, { resumeFrom: c.dir }),
    (err: Error) => err instanceof CheckpointError && err.message.includes(c.dir) && /another model|does not fit/.test(err.message),
  );
});
