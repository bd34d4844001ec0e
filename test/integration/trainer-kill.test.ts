// A trainer killed with SIGKILL mid-run leaves its run 'interrupted' with every metric it
// reported before the kill; the next run starts normally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceWithMnist } from './helpers.js';
import { trainerPid } from '../support/run-files.js';

test('SIGKILL mid-run: interrupted, every reported metric stored, next run fine', { timeout: 300_000 }, async () => {
  const { service, datasetId } = await serviceWithMnist(1000);
  try {
    const config = { model: 'small', batchSize: 16, epochs: 5, learningRate: 1e-3, backend: 'wasm' } as const;
    const { runId, done } = service.startTraining({ dataset: datasetId, config });
    const reported: number[] = [];
    await new Promise<void>((resolve) => {
      service.on('run-metrics', (e) => {
        if (e.runId !== runId) return;
        reported.push(...e.steps.map((s) => s.step));
        if (reported.length >= 30) resolve();
      });
    });
    const pid = trainerPid(service, runId);
    process.kill(pid, 'SIGKILL');
    const run = await done;
    assert.equal(run.status, 'interrupted');
    assert.match(run.error ?? '', /killed \(SIGKILL\)/);
    const stored = service.runSteps(runId).map((s) => s.step);
    for (const s of reported) assert.ok(stored.includes(s), `step ${s} was reported but not stored`);
    assert.ok(stored.length >= reported.length);

    const next = service.startTraining({ dataset: datasetId, config: { ...config, epochs: 1 }, maxSteps: 5 });
    const nextRun = await next.done;
    assert.equal(nextRun.status, 'completed', nextRun.error ?? '');
    assert.equal(nextRun.steps, 5);
  } finally {
    await service.close();
  }
});

test('stop takes effect within a second and ends the run stopped', { timeout: 300_000 }, async () => {
  const { service, datasetId } = await serviceWithMnist(1000);
  try {
    const { runId, done } = service.startTraining({
      dataset: datasetId,
      config: { model: 'large', batchSize: 64, epochs: 10, learningRate: 1e-3, backend: 'wasm' },
    });
    await new Promise<void>((resolve) => service.on('run-metrics', (e) => e.runId === runId && e.steps.length > 0 && resolve()));
    const t0 = Date.now();
    service.stopRun(runId);
    const run = await done;
    const took = Date.now() - t0;
    assert.equal(run.status, 'stopped');
    assert.ok(took < 1500, `stop took ${took} ms`);
    assert.ok(run.steps > 0);
  } finally {
    await service.close();
  }
});
