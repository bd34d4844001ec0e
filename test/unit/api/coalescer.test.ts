// Live events reach each subscriber at a bounded rate while nothing that matters is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WireEvent } from '../../../src/shared/api/index.js';
import type { StepMetrics } from '../../../src/shared/run-types.js';
import { EventCoalescer, thinSteps } from '../../../src/main/service/event-coalescer.js';

function step(n: number): StepMetrics {
  return { step: n, epoch: 1, time: n / 1000, loss: 1 / n, accuracy: 0.5, samplesPerSecond: 100, stepMs: 1, memoryBytes: 1, learningRate: 0.001 };
}

test('1000 metric events in one second become about ten flushes, with every epoch and the last step', async () => {
  const got: { at: number; event: WireEvent }[] = [];
  const start = performance.now();
  const c = new EventCoalescer((event) => got.push({ at: performance.now() - start, event }), { intervalMs: 100, maxStepsPerFlush: 50 });
  for (let i = 1; i <= 1000; i++) {
    c.push('run-metrics', {
      runId: 1,
      steps: [step(i)],
      epochs: i % 250 === 0 ? [{ epoch: i / 250, step: i, time: 0, valLoss: 1, valAccuracy: 0.9, trainLoss: 1, trainAccuracy: 0.9 }] : [],
    });
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 150));
  c.close();
  const metrics = got.filter((g) => g.event.event === 'run-metrics');
  const seconds = (got.at(-1)!.at - got[0]!.at) / 1000;
  // One flush per 100 ms at most, plus the leading one.
  assert.ok(metrics.length <= Math.ceil(seconds * 10) + 1, `${metrics.length} flushes in ${seconds.toFixed(2)} s`);
  assert.ok(metrics.length >= 3, 'events still flow while it runs');
  const epochs = metrics.flatMap((m) => (m.event.data as { epochs: unknown[] }).epochs);
  assert.equal(epochs.length, 4, 'epochs are never thinned');
  const steps = metrics.flatMap((m) => (m.event.data as { steps: StepMetrics[] }).steps);
  assert.equal(steps.at(-1)!.step, 1000, 'the latest step always goes out');
  for (const m of metrics) assert.ok((m.event.data as { steps: unknown[] }).steps.length <= 50);
});

test('statuses keep their order after the metrics before them; progress keeps only the latest', () => {
  let now = 0;
  const got: WireEvent[] = [];
  const c = new EventCoalescer((e) => got.push(e), { intervalMs: 100, now: () => now });
  c.push('run-status', { runId: 1, status: 'queued' }); // leading edge: sent at once
  assert.equal(got.length, 1);
  c.push('run-metrics', { runId: 1, steps: [step(1)], epochs: [] });
  c.push('tune-progress', { sessionId: 2, phase: 'memory', trial: 1, batchSize: 1, etaSeconds: null, message: 'a' });
  c.push('run-metrics', { runId: 1, steps: [step(2)], epochs: [] });
  c.push('tune-progress', { sessionId: 2, phase: 'memory', trial: 2, batchSize: 2, etaSeconds: null, message: 'b' });
  c.push('run-status', { runId: 1, status: 'completed' });
  assert.equal(got.length, 1, 'nothing more before the interval');
  now = 100;
  c.flush();
  assert.deepEqual(
    got.map((e) => e.event),
    ['run-status', 'run-metrics', 'tune-progress', 'run-status'],
  );
  assert.deepEqual(
    (got[1]!.data as { steps: StepMetrics[] }).steps.map((s) => s.step),
    [1, 2],
  );
  assert.equal((got[2]!.data as { message: string }).message, 'b');
  assert.equal((got[3]!.data as { status: string }).status, 'completed');
  c.close();
});

test('two runs are merged separately', () => {
  const got: WireEvent[] = [];
  let now = 0;
  const c = new EventCoalescer((e) => got.push(e), { now: () => now });
  c.push('run-status', { runId: 9, status: 'running' });
  c.push('run-metrics', { runId: 1, steps: [step(1)], epochs: [] });
  c.push('run-metrics', { runId: 2, steps: [step(1)], epochs: [] });
  c.push('run-metrics', { runId: 1, steps: [step(2)], epochs: [] });
  now = 200;
  c.flush();
  const runs = got.filter((e) => e.event === 'run-metrics').map((e) => e.data as { runId: number; steps: unknown[] });
  assert.deepEqual(
    runs.map((r) => [r.runId, r.steps.length]),
    [
      [1, 2],
      [2, 1],
    ],
  );
  c.close();
});

test('thinSteps keeps evenly spaced steps and the last one', () => {
  const steps = Array.from({ length: 1000 }, (_, i) => step(i + 1));
  const thin = thinSteps(steps, 10);
  assert.equal(thin.length, 10);
  assert.equal(thin.at(-1)!.step, 1000);
  assert.equal(thin[0]!.step, 100);
  assert.equal(thinSteps(steps.slice(0, 5), 10).length, 5);
});
