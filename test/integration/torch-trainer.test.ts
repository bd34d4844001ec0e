// The torch engine trains as the tfjs engine does: same initial weights (converted), same
// batches, same optimizer — per-step losses agree, accuracy ends in the same place — and it ends
// as a tfjs trainer does: stopped on request, killed, or with its model exported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../../src/main/engine/models/build-model.js';
import { saveModelToDir } from '../../src/main/engine/models/model-files.js';
import { TrainerHost, forkSpawner, type JobOutcome } from '../../src/main/service/trainer-host.js';
import { createPythonSpawner } from '../../src/main/service/python-trainer.js';
import type { StepMetrics, EpochMetrics, TrainConfig } from '../../src/shared/run-types.js';
import type { TrainJob } from '../../src/shared/trainer-protocol.js';
import { sharedMnistDir, tempHome } from './helpers.js';
import { missing, torchPython } from '../support/parts.js';

const skip = missing('torch');

const python = torchPython;

interface Heard {
  outcome: JobOutcome;
  steps: StepMetrics[];
  epochs: EpochMetrics[];
  device: string;
}

async function train(job: TrainJob, onStep?: (host: TrainerHost, step: StepMetrics) => void): Promise<Heard> {
  const torch = job.config.backend.startsWith('torch-');
  // One thread on both engines: the comparison is of the arithmetic, not of the machine.
  const host = new TrainerHost(job, { spawn: torch ? createPythonSpawner({ python: python(), threads: 1 }) : forkSpawner });
  const steps: StepMetrics[] = [];
  const epochs: EpochMetrics[] = [];
  let device = '';
  host.on('backend', (r) => (device = r.device));
  host.on('metrics', (m) => {
    steps.push(...m.steps);
    epochs.push(...m.epochs);
    for (const s of m.steps) onStep?.(host, s);
  });
  return { outcome: await host.done, steps, epochs, device };
}

const BASE: TrainConfig = {
  model: 'small',
  batchSize: 32,
  epochs: 1,
  learningRate: 1e-3,
  optimizer: 'adam',
  momentum: 0.9,
  warmupSteps: 5,
  backend: 'wasm',
  seed: 3,
};

function job(datasetDir: string, config: Partial<TrainConfig>, extra: Partial<TrainJob> = {}): TrainJob {
  return { kind: 'train', runId: 1, datasetDir, config: { ...BASE, ...config }, ...extra };
}

/** One MNIST sample import for the whole file. */
const datasetDir = sharedMnistDir(2000);

for (const [model, tolerance] of [
  ['small', 1e-3],
  ['resnet-8', 1e-2],
] as const) {
  test(`${model}: per-step losses over 20 steps on torch-cpu and wasm agree within ${tolerance} relative`, { skip, timeout: 600_000 }, async (t) => {
    const dir = await datasetDir();
    process.env.AUTOBATCH_WASM_THREADS = '1';
    const [wasm, torch] = [
      await train(job(dir, { model, backend: 'wasm' }, { maxSteps: 20 })),
      await train(job(dir, { model, backend: 'torch-cpu' }, { maxSteps: 20 })),
    ];
    for (const r of [wasm, torch]) assert.equal(r.outcome.status, 'completed', JSON.stringify(r.outcome));
    assert.match(torch.device, /PyTorch/);
    assert.equal(torch.steps.length, 20);
    const worst = Math.max(...wasm.steps.map((s, i) => Math.abs(s.loss - torch.steps[i]!.loss) / Math.abs(s.loss)));
    t.diagnostic(`largest relative per-step loss difference: ${worst.toExponential(2)}`);
    assert.ok(
      worst <= tolerance,
      `largest relative loss difference ${worst}: wasm ${wasm.steps.map((s) => s.loss.toFixed(5)).join(' ')} / torch ${torch.steps.map((s) => s.loss.toFixed(5)).join(' ')}`,
    );
  });
}

test('small CNN over 3 seeds: torch-cpu ends within 1 point of wasm in validation accuracy', { skip, timeout: 900_000 }, async (t) => {
  const dir = await datasetDir();
  const finals: Record<string, number[]> = { wasm: [], 'torch-cpu': [] };
  for (const seed of [1, 2, 3]) {
    // Interleaved, seed by seed, so that a change in the machine's load touches both alike.
    for (const backend of ['wasm', 'torch-cpu'] as const) {
      const r = await train(job(dir, { backend, seed, epochs: 2 }));
      assert.equal(r.outcome.status, 'completed', JSON.stringify(r.outcome));
      finals[backend]!.push(r.epochs.at(-1)!.valAccuracy);
    }
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const gap = Math.abs(mean(finals.wasm!) - mean(finals['torch-cpu']!));
  t.diagnostic(`final validation accuracy: wasm ${finals.wasm!.join(', ')}; torch-cpu ${finals['torch-cpu']!.join(', ')}`);
  assert.ok(gap <= 0.01, `mean final validation accuracy: wasm ${finals.wasm!.join(', ')}; torch ${finals['torch-cpu']!.join(', ')}`);
});

test('a torch run exports its model in the tfjs layers format with state_dict beside it, and reports its evaluation', { skip, timeout: 300_000 }, async () => {
  const dir = await datasetDir();
  const artifactDir = tempHome('autobatch-torch-art-');
  const r = await train(job(dir, { backend: 'torch-cpu', epochs: 1 }, { artifactDir }));
  assert.equal(r.outcome.status, 'completed', JSON.stringify(r.outcome));
  if (r.outcome.status !== 'completed') return;
  assert.ok(r.outcome.artifact && r.outcome.artifact.bytes > 0);
  for (const f of ['model.json', 'weights.bin', 'state_dict.pt']) assert.ok(existsSync(path.join(artifactDir, 'model', f)), f);
  assert.equal(r.outcome.evaluation?.confusion.length, 10);
  assert.ok(r.outcome.summary && r.outcome.summary.steps > 0);
});

test('a torch run validates in chunks of its evaluation batch: the same validation figures as at the batch size', { skip, timeout: 300_000 }, async () => {
  const dir = await datasetDir();
  const artifactDir = tempHome('autobatch-torch-eval-');
  const [plain, chunked] = [
    await train(job(dir, { backend: 'torch-cpu', epochs: 1 })),
    await train(job(dir, { backend: 'torch-cpu', epochs: 1, evalBatchSize: 7 }, { artifactDir })),
  ];
  for (const r of [plain, chunked]) assert.equal(r.outcome.status, 'completed', JSON.stringify(r.outcome));
  assert.deepEqual(
    chunked.epochs.map((e) => e.valAccuracy),
    plain.epochs.map((e) => e.valAccuracy),
  );
  chunked.epochs.forEach((e, i) => assert.ok(Math.abs(e.valLoss - plain.epochs[i]!.valLoss) < 1e-4, `${e.valLoss} vs ${plain.epochs[i]!.valLoss}`));
  if (chunked.outcome.status === 'completed') assert.equal(chunked.outcome.evaluation?.confusion.length, 10, 'the final evaluation too');
});

test("a stopped torch run sends its own 'stopped' within a second", { skip, timeout: 300_000 }, async () => {
  const dir = await datasetDir();
  let stoppedAt = 0;
  const started = Date.now();
  const r = await train(job(dir, { backend: 'torch-cpu', epochs: 50 }), (host, s) => {
    if (s.step >= 5 && !stoppedAt) {
      stoppedAt = Date.now();
      host.stop();
    }
  });
  assert.equal(r.outcome.status, 'stopped');
  // A kill after the grace period also reads as stopped, but without the trainer's summary.
  assert.ok(r.outcome.status === 'stopped' && r.outcome.summary, 'the trainer sent its own stopped message with a summary');
  assert.ok(Date.now() - stoppedAt < 2000 && stoppedAt - started > 0);
});

test('a torch trainer killed from outside ends as interrupted', { skip, timeout: 300_000 }, async () => {
  const dir = await datasetDir();
  let killed = false;
  const r = await train(job(dir, { backend: 'torch-cpu', epochs: 50 }), (host) => {
    if (!killed) {
      killed = true;
      process.kill(host.pid!, 'SIGKILL');
    }
  });
  assert.equal(r.outcome.status, 'interrupted');
});

test(
  'fine-tuning a trained model (resized to 32×32 RGB, one block trained, slower backbone): torch-cpu and wasm agree over 20 steps',
  { skip, timeout: 600_000 },
  async (t) => {
    const dir = await datasetDir();
    // A start model that needs every input adapter: 32×32 RGB, pixels in [0, 1].
    await tf.setBackend('cpu');
    const source = buildModel('small', { inputShape: [32, 32, 3], classes: 4 }, 9);
    const startDir = path.join(tempHome('autobatch-torch-start-'), 'model');
    await saveModelToDir(source, startDir, { normalization: { kind: 'scale', scale: 1 / 255 } });
    source.dispose();
    const startFrom = {
      source: startDir,
      sourceKind: 'folder' as const,
      digest: '0'.repeat(64),
      architecture: 'small',
      classes: ['a', 'b', 'c', 'd'],
      inputShape: [32, 32, 3],
      unfreeze: 1,
      blocks: 3,
      batchNormTrained: false,
      fineTuneLearningRate: 1e-4,
    };
    const config = { model: 'small' as const, startFrom, learningRate: 1e-3 };
    const [wasm, torch] = [
      await train(job(dir, { ...config, backend: 'wasm' }, { maxSteps: 20, startModelDir: startDir })),
      await train(job(dir, { ...config, backend: 'torch-cpu' }, { maxSteps: 20, startModelDir: startDir })),
    ];
    for (const r of [wasm, torch]) assert.equal(r.outcome.status, 'completed', JSON.stringify(r.outcome));
    const worst = Math.max(...wasm.steps.map((s, i) => Math.abs(s.loss - torch.steps[i]!.loss) / Math.abs(s.loss)));
    t.diagnostic(`largest relative per-step loss difference: ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-3, `wasm ${wasm.steps.map((s) => s.loss.toFixed(5)).join(' ')} / torch ${torch.steps.map((s) => s.loss.toFixed(5)).join(' ')}`);
  },
);

test(
  "out of memory on torch-cpu ends the run as cause 'oom', with PyTorch's message",
  { skip: process.platform !== 'linux' ? 'ulimit -v caps a process’s memory this way on Linux only' : skip, timeout: 300_000 },
  async () => {
    const dir = await datasetDir();
    // The interpreter under an address-space cap: what importing torch takes here, plus 350 MB —
    // too little for the large CNN on a 1 600-sample batch (one activation alone is 138 MB).
    const probe = spawnSync(python(), ['-c', "import torch\nprint([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmSize')][0])"], {
      encoding: 'utf8',
    });
    assert.equal(probe.status, 0, probe.stderr);
    const capKb = Number(probe.stdout.trim()) + 350 * 1024;
    const capped = path.join(tempHome('autobatch-torch-oom-'), 'python-capped');
    writeFileSync(capped, `#!/bin/sh\nulimit -v ${capKb}\nexec ${python()} "$@"\n`);
    chmodSync(capped, 0o755);
    const host = new TrainerHost(job(dir, { model: 'large', batchSize: 1600, backend: 'torch-cpu' }), {
      spawn: createPythonSpawner({ python: capped, threads: 1 }),
    });
    const outcome = await host.done;
    assert.equal(outcome.status, 'failed', JSON.stringify(outcome));
    assert.ok(outcome.status === 'failed' && outcome.cause === 'oom', JSON.stringify(outcome));
    assert.match(outcome.message, /allocate/);
  },
);
