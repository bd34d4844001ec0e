// Gradient accumulation through the service and the CLI, on both engines: a torch step in
// micro-batches ends at the full batch's weights (within float rounding), far from a smaller
// batch's; a wasm run with --micro-batch stores it, says it in `runs show`, and finishes; bad
// micro-batches are refused naming the field, with nothing stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceWithMnist } from './helpers.js';
import { missing } from '../support/parts.js';
import { savedWeights } from '../support/run-files.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin', 'autobatch.js');

const floats = (b: Buffer) => new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);

test(
  'torch-cpu: one step of 48 in micro-batches of 16 lands on the full batch’s weights; a batch of 16 does not',
  { timeout: 300_000, skip: missing('torch') },
  async () => {
    const { service, datasetId, home } = await serviceWithMnist(300);
    try {
      // Plain SGD at a large rate: the step's weight change is the gradient, big enough to see.
      const config = { model: 'small', batchSize: 48, epochs: 1, learningRate: 0.5, optimizer: 'sgd', momentum: 0, backend: 'torch-cpu', seed: 4 } as const;
      const weightsOf = async (c: Record<string, unknown>) => {
        const { runId, done } = service.startTraining({ dataset: datasetId, config: { ...config, ...c }, maxSteps: 1 });
        const run = await done;
        assert.equal(run.status, 'completed', run.error ?? '');
        assert.equal(run.rung, 'torch-cpu');
        return { run, w: floats(savedWeights(service, runId)) };
      };
      const full = await weightsOf({});
      const micro = await weightsOf({ microBatchSize: 16 });
      const small = await weightsOf({ batchSize: 16 });
      assert.equal(micro.run.config.microBatchSize, 16);
      const worst = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
      const accumulated = worst(full.w, micro.w);
      const other = worst(full.w, small.w);
      assert.ok(accumulated < 1e-5, `micro-batches: ${accumulated} from the full batch's weights`);
      assert.ok(other > 1e-3, `a real step: a batch of 16 lands ${other} away`);
    } finally {
      await service.close();
      rmSync(home, { recursive: true, force: true });
    }
  },
);

test(
  'CLI: --micro-batch trains a wasm run in passes, stored and said in runs show; bad micro-batches refused with nothing stored',
  { timeout: 300_000 },
  async () => {
    const { service, datasetId, home } = await serviceWithMnist(300);
    await service.close();
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, AUTOBATCH_HOME: home }, encoding: 'utf8', timeout: 300_000 });
    try {
      const common = ['train', '--dataset', String(datasetId), '--epochs', '1', '--lr', '0.002', '--backend', 'wasm', '--max-steps', '3'];
      const r = cli(...common, '--model', 'small', '--batch-size', '64', '--micro-batch', '24', '--json');
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { id: number; status: string; steps: number; config: { batchSize: number; microBatchSize?: number } };
      assert.deepEqual([out.status, out.steps, out.config.batchSize, out.config.microBatchSize], ['completed', 3, 64, 24]);
      const shown = cli('runs', 'show', String(out.id));
      assert.equal(shown.status, 0, shown.stderr);
      assert.match(shown.stdout, /each step of 64 samples accumulates the gradients of 2 micro-batches of 24 and one of 16/);

      const larger = cli(...common, '--model', 'small', '--batch-size', '64', '--micro-batch', '65');
      assert.equal(larger.status, 1);
      assert.match(larger.stderr, /microBatchSize 65 is larger than batchSize 64/);
      const bn = cli(...common, '--model', 'resnet-8', '--batch-size', '64', '--micro-batch', '8');
      assert.equal(bn.status, 1);
      assert.match(bn.stderr, /microBatchSize 8 is below 16, the smallest a batch-norm model trains with/);
      const list = cli('runs', 'list', '--json');
      assert.equal((JSON.parse(list.stdout) as unknown[]).length, 1, 'the refused runs were never stored');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  },
);
