import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBatcher, type MetricsBatch } from '../../../src/main/engine/trainer/event-batcher.js';
import type { StepMetrics } from '../../../src/shared/run-types.js';

function step(n: number): StepMetrics {
  return { step: n, epoch: 1, time: n / 100, loss: 1 / n, accuracy: 0.5, samplesPerSecond: 100, stepMs: 10, memoryBytes: 0, learningRate: 1e-3 };
}

test('batches every step, at most one batch per interval', async () => {
  const batches: MetricsBatch[] = [];
  const b = new EventBatcher((x) => batches.push(x), 50);
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < 320) {
    b.addStep(step(++n));
    await new Promise((r) => setTimeout(r, 2));
  }
  b.flush();
  const all = batches.flatMap((x) => x.steps.map((s) => s.step));
  assert.deepEqual(
    all,
    Array.from({ length: n }, (_, i) => i + 1),
    'every step arrives once, in order',
  );
  // 320 ms at one batch per 50 ms: about 7, never one per step.
  assert.ok(batches.length <= 9, `${batches.length} batches for ${n} steps`);
  assert.ok(n > 3 * batches.length, 'each batch carries several steps');
});

test('flush sends pending epochs at once and nothing when empty', () => {
  const batches: MetricsBatch[] = [];
  const b = new EventBatcher((x) => batches.push(x), 10_000);
  b.flush();
  assert.equal(batches.length, 0);
  b.addEpoch({ epoch: 1, step: 10, time: 1, valLoss: 0.5, valAccuracy: 0.9, trainLoss: 0.4, trainAccuracy: 0.92 });
  b.flush();
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.epochs[0]!.valAccuracy, 0.9);
});
