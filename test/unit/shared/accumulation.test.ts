import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accumulationSteps, accumulationText, microBatchOf, microBatchProblem, microBatchUnder, runMicroBatch } from '../../../src/shared/accumulation.js';

test('the micro-batch and the passes a step takes', () => {
  assert.equal(microBatchOf({ batchSize: 256 }), 256);
  assert.equal(microBatchOf({ batchSize: 256, microBatchSize: 64 }), 64);
  assert.equal(microBatchOf({ batchSize: 256, microBatchSize: 512 }), 256);
  assert.equal(accumulationSteps({ batchSize: 256, microBatchSize: 64 }), 4);
  assert.equal(accumulationSteps({ batchSize: 250, microBatchSize: 64 }), 4);
  assert.equal(accumulationSteps({ batchSize: 256 }), 1);
});

test('the fewest equal passes under a memory ceiling, never below the batch-norm floor', () => {
  assert.equal(microBatchUnder(256, 300), undefined);
  assert.equal(microBatchUnder(256, 256), undefined);
  assert.equal(microBatchUnder(256, 200), 128);
  assert.equal(microBatchUnder(300, 128), 100);
  assert.equal(microBatchUnder(1000, 7, 16), 16);
});

test('micro-batches that cannot be used, and the words for those that are', () => {
  assert.match(microBatchProblem({ model: 'small', batchSize: 64, microBatchSize: 128 })!, /larger than batchSize 64/);
  assert.match(microBatchProblem({ model: 'resnet-8', batchSize: 64, microBatchSize: 8 })!, /below 16, the smallest a batch-norm model trains with/);
  assert.equal(microBatchProblem({ model: 'small', batchSize: 64, microBatchSize: 8 }), null);
  assert.equal(microBatchProblem({ model: 'resnet-8', batchSize: 8, microBatchSize: 8 }), null, 'no accumulation: the batch itself is the model’s business');
  assert.equal(accumulationText({ model: 'small', batchSize: 64 }), null);
  assert.equal(
    accumulationText({ model: 'small', batchSize: 256, microBatchSize: 64 }),
    'each step of 256 samples accumulates the gradients of 4 micro-batches of 64',
  );
  assert.equal(
    accumulationText({ model: 'resnet-8', batchSize: 250, microBatchSize: 64 }),
    'each step of 250 samples accumulates the gradients of 3 micro-batches of 64 and one of 58; batch-norm statistics are per micro-batch of 64',
  );
});

test('a run’s micro-batch: the one asked for, dropped when not smaller, else the fewest passes under its tuning’s memory ceiling', () => {
  const c = { model: 'small', batchSize: 256 } as const;
  assert.deepEqual(runMicroBatch({ ...c, microBatchSize: 64 }, undefined), { config: { ...c, microBatchSize: 64 } });
  assert.deepEqual(runMicroBatch({ ...c, microBatchSize: 256 }, 100), { config: c });
  assert.deepEqual(runMicroBatch(c, 100), { config: { ...c, microBatchSize: 86 } });
  assert.deepEqual(runMicroBatch(c, 300), { config: c });
  assert.deepEqual(runMicroBatch(c, undefined), { config: c });
  assert.deepEqual(
    runMicroBatch({ model: 'resnet-8', batchSize: 256 }, 10),
    { config: { model: 'resnet-8', batchSize: 256, microBatchSize: 16 } },
    'never below the batch-norm floor',
  );
  assert.ok('problem' in runMicroBatch({ ...c, microBatchSize: 300 }, undefined));
});
