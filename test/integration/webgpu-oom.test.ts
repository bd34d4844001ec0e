// Out of memory on WebGPU, for real: on this machine's adapter (Mesa's lavapipe where there is
// no GPU) a batch whose activations need one buffer above the device's limits (lavapipe binds at
// most 128 MiB of storage at once; the batch is computed from the adapter's own limit) fails
// inside the GPU, not in JavaScript. The probe's error
// scopes must turn that into probe-failed/oom with the process still usable, and the same
// session must then measure a small batch exactly as before. The second test runs a whole
// Auto-tune into that limit (slow: opt-in).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../../src/shared/random.js';
import { encodeIdxHeader } from '../../src/main/engine/datasets/idx.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { tempHome } from './helpers.js';
import { missing, optIn } from '../support/parts.js';
import { mnist, Trainer } from './probe-trainer.js';

/** A planned run of ten minutes: the search's time allowance (30 s Quick, 90 s Full) then cuts no probe on these small datasets, which is what these tests check; its trials take 6 s each (1 % of it). */
const TEN_MINUTES = 600;

const ADAPTER = fileURLToPath(new URL('../../bench/gpu-check/adapter.js', import.meta.url));
/** Bytes of the small CNN's first conv output per MNIST sample: 26×26×16 floats. */
const CONV1_BYTES = 26 * 26 * 16 * 4;

/** This machine's adapter limits, or why there is none. */
function adapterLimits(): { maxStorageBufferBindingSize: number; software: boolean } | { error: string } {
  try {
    return JSON.parse(execFileSync(process.execPath, [ADAPTER], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim()) as {
      maxStorageBufferBindingSize: number;
      software: boolean;
    };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0]! };
  }
}

// SwiftShader binds 1 GiB at once, too much to reach cheaply: this needs lavapipe (or a GPU
// with small limits, which it then skips for the same reason).
test(
  'webgpu probe session: an allocation over the device limit is an oom probe failure, and the session goes on',
  { timeout: 300_000, skip: missing('system-vulkan') },
  async (t) => {
    const limits = adapterLimits();
    if ('error' in limits) throw new Error(`the WebGPU adapter that was found does not answer: ${limits.error}`);
    // The smallest batch whose first conv output cannot be bound (lavapipe: 128 MiB → 3 167).
    const TOO_BIG = Math.ceil(limits.maxStorageBufferBindingSize / CONV1_BYTES) + 64;
    if (TOO_BIG > 16_384) return t.skip(`this adapter binds ${limits.maxStorageBufferBindingSize} bytes at once: too much to reach cheaply`);
    const data = await mnist(300);
    const trainer = new Trainer();
    try {
      assert.equal((await trainer.next()).type, 'ready');
      trainer.send({
        type: 'start-probes',
        session: { kind: 'probe-session', datasetDir: data.dir, model: 'small', optimizer: 'adam', backend: 'webgpu', seed: 1 },
      });
      const backend = await trainer.next(120_000);
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
  },
);

/** An IDX pair of `count` size×size images, two classes (a bright square left or right). */
function writeIdx(dir: string, count: number, size: number): void {
  mkdirSync(dir, { recursive: true });
  const rng = createRng(11);
  const pixels = Buffer.alloc(count * size * size);
  const labels = Buffer.alloc(count);
  const side = size / 4;
  for (let n = 0; n < count; n++) {
    labels[n] = n % 2;
    const base = n * size * size;
    for (let i = 0; i < size * size; i++) pixels[base + i] = Math.floor(rng() * 96);
    const ox = (n % 2) * (size / 2) + Math.floor(rng() * side);
    for (let y = side; y < 2 * side; y++) for (let x = ox; x < ox + side; x++) pixels[base + y * size + x] = 255;
  }
  writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), Buffer.concat([encodeIdxHeader(0x08, [count, size, size]), pixels]));
  writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), Buffer.concat([encodeIdxHeader(0x08, [count]), labels]));
}

// 192×192 inputs: the small CNN's first conv output is 2.3 MB a sample, so about 58 samples fill
// lavapipe's 128 MiB binding limit, well below the dataset's own cap (1 600 / 20 = 80). Every step
// near that limit moves ~1.5 GB through lavapipe (10–60 s each on 2 cores), so the whole search
// takes ~8 minutes: run it with AUTOBATCH_SLOW_WEBGPU_TESTS=1 (docs/gpu-check.md). It found
// oom at 80, 66 and 60 and the ceiling at 58 when last run.
const SLOW = optIn('AUTOBATCH_SLOW_WEBGPU_TESTS', '~8 min on lavapipe');
test(
  'Auto-tune on webgpu: a batch that does not fit is stored as an oom trial and the search goes on to a recommendation',
  { timeout: 1_800_000, skip: SLOW || missing('webgpu') },
  async () => {
    const home = tempHome();
    const src = path.join(home, 'idx');
    writeIdx(src, 2000, 192);
    const service = new AutoBatchService({ home });
    try {
      const ds = await service.importDataset(src, { name: 'squares-192' });
      const { sessionId, done } = service.startTuning({ dataset: ds.id, model: 'small', mode: 'quick', backend: 'webgpu', budgetSeconds: TEN_MINUTES });
      const run = await done;
      assert.equal(run.status, 'completed', run.error ?? '');
      const trials = service.tuningTrials(sessionId);
      const oom = trials.filter((x) => x.status === 'oom');
      assert.ok(oom.length >= 1, `no oom trial: ${trials.map((x) => `${x.kind} ${x.batchSize} ${x.status}`).join(', ')}`);
      assert.ok(
        oom.every((x) => /out of memory on the WebGPU device/.test(x.cause ?? '')),
        JSON.stringify(oom),
      );
      const rec = run.report!.recommendation;
      assert.ok(rec.memoryCeiling < Math.min(...oom.map((x) => x.batchSize)), `ceiling ${rec.memoryCeiling} below the smallest batch that failed`);
      assert.ok(rec.batchSize <= rec.memoryCeiling && rec.expectedSamplesPerSecond > 0);
      assert.ok(
        trials.some((x) => x.kind === 'throughput' && x.status === 'ok'),
        'the search went on to the throughput curve',
      );
    } finally {
      await service.close();
    }
  },
);
