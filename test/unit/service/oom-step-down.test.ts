// The out-of-memory step-down rule: the training batch to the largest smaller verified batch,
// else ×0.75, never below the model's minimum, the rate by the search's rule; the evaluation
// batch halved after a validation pass; a reason when nothing smaller is allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainConfig } from '../../../src/shared/run-types.js';
import { oomStepDown } from '../../../src/main/service/oom-step-down.js';

const config: TrainConfig = {
  model: 'small',
  batchSize: 64,
  epochs: 2,
  learningRate: 0.004,
  optimizer: 'adam',
  momentum: 0.9,
  warmupSteps: 0,
  backend: 'wasm',
  seed: 1,
};

test('a training step: ×0.75 without verified batches; the rate × √ for Adam, × for SGD', () => {
  const a = oomStepDown(config, 'training', []);
  assert.ok(!('refused' in a));
  assert.equal(a.toBatch, 48);
  assert.ok(Math.abs(a.toRate - 0.004 * Math.sqrt(0.75)) < 1e-15);
  assert.equal(a.config.batchSize, 48);
  const sgd = oomStepDown({ ...config, optimizer: 'sgd' }, undefined, []);
  assert.ok(!('refused' in sgd));
  assert.ok(Math.abs(sgd.toRate - 0.003) < 1e-15);
});

test('a training step: the largest smaller batch a search verified, not one at or above the failed batch', () => {
  const a = oomStepDown(config, 'training', [16, 32, 40, 64, 128]);
  assert.ok(!('refused' in a));
  assert.equal(a.toBatch, 40);
});

test('never below the batch-norm minimum; at it, the reason', () => {
  const bn = { ...config, model: 'resnet-8', batchSize: 20 } as const;
  const a = oomStepDown(bn, 'training', []);
  assert.ok(!('refused' in a));
  assert.equal(a.toBatch, 16);
  const b = oomStepDown({ ...bn, batchSize: 16 }, 'training', []);
  assert.deepEqual(b, { refused: 'it cannot fit even the smallest allowed batch (16, the smallest a batch-norm model trains with)' });
  // Small batches still shrink by at least one sample.
  const c = oomStepDown({ ...config, model: 'mlp', batchSize: 2 }, 'training', []);
  assert.ok(!('refused' in c));
  assert.equal(c.toBatch, 1);
  assert.deepEqual(oomStepDown({ ...config, model: 'mlp', batchSize: 1 }, 'training', []), { refused: 'it cannot fit even the smallest allowed batch (1)' });
});

test('a validation pass: the evaluation batch halves (from the batch size when none is set); the training batch and rate stay', () => {
  const a = oomStepDown({ ...config, evalBatchSize: 300 }, 'validation', []);
  assert.ok(!('refused' in a));
  assert.deepEqual([a.batch, a.fromBatch, a.toBatch, a.config.batchSize, a.config.learningRate], ['evaluation', 300, 150, 64, 0.004]);
  const b = oomStepDown(config, 'validation', []);
  assert.ok(!('refused' in b));
  assert.equal(b.toBatch, 32);
  assert.ok('refused' in oomStepDown({ ...config, evalBatchSize: 1 }, 'validation', []));
});

test('a run that accumulates: the micro-batch steps down (verified, else ×0.75), the effective batch and its rate kept; its floor said as a micro-batch’s', () => {
  const accumulating = { ...config, batchSize: 256, microBatchSize: 64 };
  const a = oomStepDown(accumulating, 'training', []);
  assert.ok(!('refused' in a));
  assert.deepEqual([a.batch, a.fromBatch, a.toBatch, a.config.microBatchSize, a.config.batchSize], ['micro', 64, 48, 48, 256]);
  assert.equal(a.toRate, a.fromRate);
  assert.equal(a.config.learningRate, 0.004);
  const v = oomStepDown(accumulating, 'training', [16, 40, 64, 128]);
  assert.ok(!('refused' in v) && v.toBatch === 40);
  const floor = oomStepDown({ ...accumulating, model: 'resnet-8', microBatchSize: 16 }, 'training', []);
  assert.ok(
    'refused' in floor && /smallest allowed micro-batch \(16, the smallest a batch-norm model trains with\)/.test(floor.refused),
    JSON.stringify(floor),
  );
  const evaluation = oomStepDown(accumulating, 'validation', []);
  assert.ok(
    !('refused' in evaluation) && evaluation.batch === 'evaluation' && evaluation.fromBatch === 256,
    'the evaluation batch is the effective batch’s by default',
  );
});
