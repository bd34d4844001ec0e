// Out of memory on WebGPU, for real: on this machine's adapter (Mesa's lavapipe where there is
// no GPU) a batch whose activations need one buffer above the device's limits (lavapipe binds at
// most 128 MiB of storage at once) fails inside the GPU, not in JavaScript. The probe's error
// scopes must turn that into probe-failed/oom with the process still usable, and the same
// session must then measure a small batch exactly as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mnist, Trainer } from './probe-trainer.js';

/** Batch whose first conv output (B×26×26×16 floats) needs a 177 MB buffer. */
const TOO_BIG = 4096;

test('webgpu probe session: an allocation over the device limit is an oom probe failure, and the session goes on', { timeout: 300_000 }, async (t) => {
  const data = await mnist(300);
  const trainer = new Trainer();
  try {
    assert.equal((await trainer.next()).type, 'ready');
    trainer.send({ type: 'start-probes', session: { kind: 'probe-session', datasetDir: data.dir, model: 'small', optimizer: 'adam', backend: 'webgpu', seed: 1 } });
    const backend = await trainer.next(120_000);
    if (backend.type === 'failed' && backend.cause === 'backend') {
      t.skip(`no WebGPU adapter here: ${backend.message}`);
      return;
    }
    assert.ok(backend.type === 'backend' && backend.report.name === 'webgpu', JSON.stringify(backend));

    const small = await trainer.probe({ kind: 'memory', id: 1, batchSize: 16 });
    assert.ok(small.type === 'probe-result' && small.result.kind === 'memory', JSON.stringify(small));

    const big = await trainer.probe({ kind: 'memory', id: 2, batchSize: TOO_BIG });
    assert.ok(big.type === 'probe-failed', `the over-limit batch must fail, got ${JSON.stringify(big)}`);
    assert.equal(big.cause, 'oom', big.message);
    assert.equal(big.fatal, undefined, 'the process stays usable');
    assert.match(big.message, /out of memory on the WebGPU device/);

    const throughput = await trainer.probe({ kind: 'throughput', id: 3, batchSize: TOO_BIG, warmupSteps: 0, steps: 1 });
    assert.ok(throughput.type === 'probe-failed' && throughput.cause === 'oom', JSON.stringify(throughput));

    const again = await trainer.probe({ kind: 'memory', id: 4, batchSize: 16 });
    assert.ok(again.type === 'probe-result' && again.result.kind === 'memory', JSON.stringify(again));
    assert.equal(again.result.peakBytes, small.result.peakBytes, 'the failed probes left nothing behind');

    const trial = await trainer.probe({ kind: 'trial', id: 5, batchSize: 32, learningRate: 1e-3, warmupSteps: 1, seconds: 0.5 });
    assert.ok(trial.type === 'probe-result' && trial.result.kind === 'trial', JSON.stringify(trial));
    assert.ok(trial.result.losses.every(Number.isFinite) && trial.result.losses[0]! > 1, 'real losses after the failure, not zeros from invalid buffers');

    trainer.send({ type: 'end' });
    assert.equal(await trainer.exited, 0);
  } finally {
    trainer.child.kill('SIGKILL');
    data.cleanup();
  }
});
