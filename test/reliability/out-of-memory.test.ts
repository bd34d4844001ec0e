// Out of memory, in a probe and in a real run: reported as such, stored, and nothing else
// crashes — the service goes on and the next job runs. Two kinds of failure each:
//   - an allocation refused inside tfjs (the memory-capped test backend: the error a GPU or
//     WebAssembly backend throws when it cannot allocate), which the trainer catches;
//   - the trainer process itself dying of it (V8's heap limit, made tiny here), which only the
//     host sees, from the exit code and the end of stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { TRAINER_ENTRY, type TrainerSpawner } from '../../src/main/service/trainer-host.js';
import { CrashOutput } from '../../src/main/service/crash-output.js';
import { removeDir, serviceWithSample, within } from './helpers.js';

/** A planned run of ten minutes: the search's time allowance (30 s Quick, 90 s Full) then cuts no probe on these small datasets, which is what these tests check; its trials take 6 s each (1 % of it). */
const TEN_MINUTES = 600;

/** forkSpawner with V8's heap capped at `mb` MiB, so that the process dies of OOM. */
function heapLimitedSpawner(mb: number): TrainerSpawner {
  return () => {
    const child = fork(TRAINER_ENTRY, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [`--max-old-space-size=${mb}`], serialization: 'advanced' });
    // The app's own keeper of a crashed process's output: V8's native stack trace after its
    // out-of-memory line is longer than any fixed tail (it pushed the line out here once).
    const output = new CrashOutput();
    child.stdout?.on('data', output.stream());
    child.stderr?.on('data', output.stream());
    return {
      get pid() {
        return child.pid;
      },
      send: (msg) => void (child.connected && child.send(msg)),
      kill: (signal) => void child.kill(signal),
      onMessage: (cb) => void child.on('message', cb),
      onExit: (cb) => void child.on('exit', cb),
      stderrTail: () => output.text(),
    };
  };
}

const TINY_HEAP_MB = Number(process.env.RELIABILITY_TINY_HEAP_MB ?? 24);

test('a real run that cannot allocate even at batch 1 fails as out of memory, saying so; the next run works', { timeout: 180_000 }, async () => {
  const { service, datasetId, home } = await serviceWithSample(300);
  try {
    const config = { model: 'mlp', batchSize: 32, epochs: 1, backend: 'cpu' } as const;
    const { done, runId } = service.startTraining({ dataset: datasetId, config, memoryCapBytes: 64 * 1024 });
    const run = await within(done, 150_000, 'the capped run');
    assert.equal(run.status, 'failed');
    // Each attempt's trainer a fresh one, the batch stepped down ×0.75 to 1, then the reason.
    assert.match(run.error ?? '', /^oom: out of memory: \d+ bytes requested, cap 65536 bytes.* — it cannot fit even the smallest allowed batch \(1\)$/);
    const steps = service.runEvents(runId).map((e) => (e.kind === 'batch-reduced' ? e.toBatch : 0));
    assert.deepEqual(steps, [24, 18, 13, 9, 6, 4, 3, 2, 1]);
    assert.equal(run.config.batchSize, 1);
    const next = await within(service.startTraining({ dataset: datasetId, config, maxSteps: 3 }).done, 60_000, 'the next run');
    assert.equal(next.status, 'completed', next.error ?? '');
  } finally {
    await service.close();
    removeDir(home);
  }
});

test('a trainer process that dies of V8 heap exhaustion: the run fails as oom, the host lives on', { timeout: 120_000 }, async () => {
  const { service, datasetId, home } = await serviceWithSample(300, heapLimitedSpawner(TINY_HEAP_MB));
  try {
    const { done } = service.startTraining({ dataset: datasetId, config: { model: 'mlp', batchSize: 32, epochs: 1, backend: 'cpu' } });
    const run = await within(done, 60_000, 'the heap-limited run');
    assert.equal(run.status, 'failed');
    // V8 aborts (SIGABRT) after printing "FATAL ERROR: … JavaScript heap out of memory".
    assert.match(run.error ?? '', /^oom: the trainer process (crashed \(SIGABRT\)|exited with code \d+) — it ran out of memory: .*heap/i);
    console.log(`# ${run.error}`);
    assert.deepEqual(service.listRuns({ status: 'running' }), []);
  } finally {
    await service.close();
    removeDir(home);
  }
});

// (test/integration/tune.test.ts covers a cap that only the larger batches pass: the ceiling found.)
test('probes that run out of memory are stored trials with their cause; the session fails saying why; the service goes on', { timeout: 180_000 }, async () => {
  const { service, datasetId, home } = await serviceWithSample(400);
  try {
    // The MNIST mlp holds ~10 MB of weights and optimizer state: 4 MB fits no batch at all.
    const { sessionId, done } = service.startTuning({
      dataset: datasetId,
      model: 'mlp',
      mode: 'quick',
      backend: 'cpu',
      memoryCapBytes: 4 * 1024 * 1024,
      budgetSeconds: TEN_MINUTES,
    });
    const t = await within(done, 150_000, 'the capped tuning');
    const trials = service.tuningTrials(sessionId);
    assert.ok(trials.length >= 1);
    for (const x of trials) {
      assert.equal(x.status, 'oom', JSON.stringify(x));
      assert.match(x.cause ?? '', /^out of memory: \d+ bytes requested, cap 4194304 bytes/);
    }
    assert.equal(t.status, 'failed');
    assert.match(t.error ?? '', /even a batch of 1 could not run a training step/);
    const next = await within(
      service.startTraining({ dataset: datasetId, config: { model: 'mlp', batchSize: 16, epochs: 1, backend: 'cpu' }, maxSteps: 3 }).done,
      60_000,
      'a run after',
    );
    assert.equal(next.status, 'completed', next.error ?? '');
  } finally {
    await service.close();
    removeDir(home);
  }
});

test('a probe process that dies of V8 heap exhaustion: the session fails with that cause, the service lives on', { timeout: 120_000 }, async () => {
  const { service, datasetId, home } = await serviceWithSample(300, heapLimitedSpawner(TINY_HEAP_MB));
  try {
    const { done } = service.startTuning({ dataset: datasetId, model: 'mlp', mode: 'quick', backend: 'cpu', budgetSeconds: TEN_MINUTES });
    const t = await within(done, 90_000, 'the heap-limited tuning');
    assert.equal(t.status, 'failed');
    assert.match(t.error ?? '', /ran out of memory/);
    assert.ok(service.getDataset(datasetId));
  } finally {
    await service.close();
    removeDir(home);
  }
});
