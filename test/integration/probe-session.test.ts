// A probe session over the real process boundary: fork the trainer entry, start a session, run
// one probe of each kind on wasm, then `end` (exit 0); and on the memory-capped cpu backend, a
// memory probe over the cap answers probe-failed/oom while the process goes on. Every message the
// trainer sends is checked against the protocol schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mnist, Trainer } from './probe-trainer.js';

test('wasm session: memory, throughput, noise and trial probes, then end exits 0', { timeout: 120_000 }, async () => {
  const data = await mnist(500);
  const trainer = new Trainer();
  try {
    assert.equal((await trainer.next()).type, 'ready');
    trainer.send({
      type: 'start-probes',
      session: { kind: 'probe-session', datasetDir: data.dir, model: 'small', optimizer: 'adam', backend: 'wasm', seed: 1 },
    });
    const backend = await trainer.next();
    assert.ok(backend.type === 'backend' && backend.report.name === 'wasm', JSON.stringify(backend));

    const memory = await trainer.probe({ kind: 'memory', id: 1, batchSize: 8 });
    assert.ok(memory.type === 'probe-result' && memory.result.kind === 'memory', JSON.stringify(memory));
    assert.ok(memory.result.peakBytes > 0 && memory.result.backendBytes! >= memory.result.peakBytes, 'the wasm heap holds at least the tensors');

    // A forward-only pass (the evaluation batch): far less than a training step per sample.
    const forward = await trainer.probe({ kind: 'memory', id: 11, batchSize: 64, forwardOnly: true });
    const step64 = await trainer.probe({ kind: 'memory', id: 12, batchSize: 64 });
    assert.ok(forward.type === 'probe-result' && forward.result.kind === 'memory' && step64.type === 'probe-result' && step64.result.kind === 'memory');
    assert.ok(forward.result.peakBytes > 0 && forward.result.stepMs > 0, JSON.stringify(forward));
    assert.ok(forward.result.engineBytes < step64.result.engineBytes, `forward ${forward.result.engineBytes} < step ${step64.result.engineBytes}`);

    const throughput = await trainer.probe({ kind: 'throughput', id: 2, batchSize: 16, warmupSteps: 1, steps: 3 });
    assert.ok(
      throughput.type === 'probe-result' && throughput.result.kind === 'throughput' && throughput.result.samplesPerSecond > 0,
      JSON.stringify(throughput),
    );
    // An accumulated step (the search's timing past the memory ceiling): 32 samples in passes of 8.
    const accumulated = await trainer.probe({ kind: 'throughput', id: 13, batchSize: 32, warmupSteps: 1, steps: 3, microBatch: 8 });
    assert.ok(accumulated.type === 'probe-result' && accumulated.result.kind === 'throughput', JSON.stringify(accumulated));
    assert.equal(accumulated.result.microBatch, 8);
    assert.ok(Math.abs(accumulated.result.samplesPerSecond * accumulated.result.secondsPerStep - 32) < 1e-6);

    const noise = await trainer.probe({ kind: 'noise', id: 3, microBatch: 8, k: 4, steps: 5, learningRate: 1e-3 });
    assert.ok(noise.type === 'probe-result' && noise.result.kind === 'noise', JSON.stringify(noise));
    assert.ok(noise.result.steps === 5 && noise.result.traceSigma > 0 && !Number.isNaN(noise.result.noiseScale));

    const trial = await trainer.probe({ kind: 'trial', id: 4, batchSize: 32, learningRate: 1e-3, warmupSteps: 2, seconds: 1 });
    assert.ok(trial.type === 'probe-result' && trial.result.kind === 'trial', JSON.stringify(trial));
    assert.ok(trial.result.steps >= 5 && trial.result.losses.length === trial.result.steps && trial.result.losses.every(Number.isFinite));
    assert.ok(Number.isFinite(trial.result.valLoss) && trial.result.valAccuracy >= 0);

    trainer.send({ type: 'end' });
    assert.equal(await trainer.exited, 0);
  } finally {
    trainer.child.kill('SIGKILL');
    data.cleanup();
  }
});

test('capped cpu session: over the cap answers probe-failed oom and the process goes on; misuse is rejected', { timeout: 120_000 }, async () => {
  const data = await mnist(300);
  const trainer = new Trainer();
  try {
    assert.equal((await trainer.next()).type, 'ready');
    const early = await trainer.probe({ kind: 'memory', id: 9, batchSize: 2 });
    assert.ok(early.type === 'probe-failed' && /start-probes/.test(early.message), JSON.stringify(early));

    const session = {
      kind: 'probe-session',
      datasetDir: data.dir,
      model: 'small',
      optimizer: 'sgd',
      backend: 'cpu',
      seed: 1,
      memoryCapBytes: 8 << 20,
    } as const;
    trainer.send({ type: 'start-probes', session });
    const backend = await trainer.next();
    assert.ok(backend.type === 'backend' && backend.report.name === 'cpu-capped' && /capped test backend/.test(backend.report.device), JSON.stringify(backend));

    trainer.send({ type: 'start-probes', session });
    const second = await trainer.next();
    assert.ok(second.type === 'failed' && second.cause === 'bad-config' && /already/.test(second.message), JSON.stringify(second));

    const invalid = await trainer.probe({ kind: 'memory', id: 10, batchSize: 0 });
    assert.ok(invalid.type === 'probe-failed' && invalid.cause === 'error' && /invalid/.test(invalid.message), JSON.stringify(invalid));

    const small = await trainer.probe({ kind: 'memory', id: 11, batchSize: 2 });
    assert.ok(small.type === 'probe-result' && small.result.kind === 'memory', JSON.stringify(small));

    const big = await trainer.probe({ kind: 'memory', id: 12, batchSize: 512 });
    assert.ok(big.type === 'probe-failed' && big.cause === 'oom' && big.fatal === undefined, JSON.stringify(big));
    assert.match(big.message, /out of memory: \d+ bytes requested, cap 8388608/);

    const again = await trainer.probe({ kind: 'memory', id: 13, batchSize: 2 });
    assert.ok(again.type === 'probe-result' && again.result.kind === 'memory', JSON.stringify(again));
    assert.equal(again.result.peakBytes, small.result.peakBytes, 'the failed probe left nothing behind');

    trainer.send({ type: 'end' });
    assert.equal(await trainer.exited, 0);
  } finally {
    trainer.child.kill('SIGKILL');
    data.cleanup();
  }
});
