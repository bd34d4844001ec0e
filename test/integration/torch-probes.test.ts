// The probe protocol on the torch engine: the Python trainer (python/autobatch_trainer/probes.py)
// answers every probe kind as the tfjs runner does (probe-runner.ts), reads memory from the device
// (VmHWM on this CPU), restores the initial weights after each probe, and on its capped test device
// (a dispatch mode counting live tensor bytes) fails like an out-of-memory error — enough for the
// ceiling search of src/shared to find ≥ 90 % of the true ceiling. Each session is a real
// `python -m autobatch_trainer` driven over its pipes, every answer checked against the schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  probeTrainerMessageSchema,
  type ProbeHostMessage,
  type ProbeRequest,
  type ProbeSession,
  type ProbeTrainerMessage,
} from '../../src/shared/probe-protocol.js';
import { trainerMessageSchema, type PreparedNet, type TrainerMessage } from '../../src/shared/trainer-protocol.js';
import { createPythonSpawner, prepareTorchJob } from '../../src/main/service/python-trainer.js';
import type { TrainerProcess } from '../../src/main/service/trainer-host.js';
import { startCeilingSearch, type MemoryReading } from '../../src/shared/ceiling-search.js';
import type { ModelKind } from '../../src/shared/run-types.js';
import { mnist, Trainer } from './probe-trainer.js';
import { pythonProcessEnv } from '../../src/main/service/python-discovery.js';
import { missing, torchPython } from '../support/parts.js';

const skip = missing('torch');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

type Message = TrainerMessage | ProbeTrainerMessage;
type Answer = Extract<Message, { type: 'probe-result' | 'probe-failed' }>;

/** A Python trainer process speaking the probe protocol; every message checked against the schemas. */
class PythonTrainer {
  private readonly child: TrainerProcess;
  readonly exited: Promise<number | null>;
  private readonly inbox: Message[] = [];
  private wake: (() => void) | undefined;

  constructor() {
    this.child = createPythonSpawner({ python: torchPython(), threads: 1 })();
    this.child.onMessage((raw) => {
      const probe = probeTrainerMessageSchema.safeParse(raw);
      const other = trainerMessageSchema.safeParse(raw);
      assert.ok(probe.success || other.success, `invalid message from the Python trainer: ${JSON.stringify(raw)}`);
      const msg = (probe.success ? probe.data : other.data) as Message;
      if (msg.type === 'heartbeat') return;
      this.inbox.push(msg);
      this.wake?.();
    });
    this.exited = new Promise((resolve) => this.child.onExit((code) => resolve(code)));
  }

  send(msg: ProbeHostMessage): void {
    this.child.send(msg);
  }

  async next(ms = 120_000): Promise<Message> {
    const deadline = Date.now() + ms;
    while (this.inbox.length === 0) {
      if (Date.now() > deadline) throw new Error(`no message from the Python trainer within ${ms} ms; output: ${this.child.stderrTail?.() ?? ''}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    return this.inbox.shift()!;
  }

  /** Starts the session; the backend report's device. */
  async start(session: ProbeSession): Promise<string> {
    assert.equal((await this.next()).type, 'ready');
    this.send({ type: 'start-probes', session });
    const backend = await this.next();
    assert.ok(backend.type === 'backend' && backend.report.name === 'torch' && backend.report.rung === 'torch-cpu', JSON.stringify(backend));
    return backend.report.device;
  }

  async probe(request: ProbeRequest): Promise<Answer> {
    this.send({ type: 'probe', request });
    const msg = await this.next();
    assert.ok(msg.type === 'probe-result' || msg.type === 'probe-failed', `answer to probe ${request.id}: ${JSON.stringify(msg)}`);
    assert.equal(msg.id, request.id);
    return msg;
  }

  async result<K extends ProbeRequest['kind']>(
    request: ProbeRequest & { kind: K },
  ): Promise<Extract<Extract<Answer, { type: 'probe-result' }>['result'], { kind: K }>> {
    const answer = await this.probe(request);
    assert.ok(answer.type === 'probe-result' && answer.result.kind === request.kind, JSON.stringify(answer));
    return answer.result as Extract<Extract<Answer, { type: 'probe-result' }>['result'], { kind: K }>;
  }

  async end(): Promise<number | null> {
    this.send({ type: 'end' });
    return this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

interface Fixture {
  datasetDir: string;
  prepared: PreparedNet;
  cleanup(): void;
}

const fixtures = new Map<ModelKind, Promise<Fixture>>();
let data: Promise<{ dir: string; cleanup(): void }> | undefined;

/** The MNIST sample (1 000 samples) and `model`'s net prepared as for a torch run with seed 1. */
function fixture(model: ModelKind): Promise<Fixture> {
  let f = fixtures.get(model);
  if (!f) {
    data ??= mnist(1000);
    f = data.then(async ({ dir }) => {
      const work = mkdtempSync(path.join(os.tmpdir(), 'torch-probes-'));
      const prep = await prepareTorchJob(
        {
          kind: 'train',
          runId: 1,
          datasetDir: dir,
          config: { model, batchSize: 32, epochs: 1, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'torch-cpu', seed: 1 },
        },
        work,
      );
      assert.ok(prep.ok, JSON.stringify(prep));
      return { datasetDir: dir, prepared: prep.prepared, cleanup: () => rmSync(work, { recursive: true, force: true }) };
    });
    fixtures.set(model, f);
  }
  return f;
}

test.after(async () => {
  for (const f of fixtures.values()) (await f.catch(() => undefined))?.cleanup();
  (await data)?.cleanup();
});

function session(f: Fixture, model: ModelKind, extra: Partial<ProbeSession> = {}): ProbeSession {
  return {
    kind: 'probe-session',
    datasetDir: f.datasetDir,
    model,
    optimizer: 'adam',
    backend: 'torch-cpu',
    seed: 1,
    prepared: f.prepared,
    threads: 1,
    ...extra,
  };
}

test('torch-cpu: every probe kind answers by the schema; memory is the peak resident size and grows with the batch', { skip, timeout: 300_000 }, async (t) => {
  const f = await fixture('small');
  const py = new PythonTrainer();
  try {
    assert.match(await py.start(session(f, 'small')), /PyTorch/);
    const memory = [];
    for (const [i, b] of [16, 128, 512].entries()) memory.push(await py.result({ kind: 'memory', id: i + 1, batchSize: b }));
    t.diagnostic(`memory: ${memory.map((m) => `${m.peakBytes} rss / ${m.engineBytes} tensors (${m.gradientBytes} + ${m.updateBytes})`).join('; ')}`);
    for (const m of memory) {
      assert.equal(m.memorySource, 'cpu-peak-rss');
      assert.ok(m.stepMs > 0 && m.backendBytes! >= m.peakBytes && m.engineBytes === Math.max(m.gradientBytes!, m.updateBytes!));
    }
    for (let i = 1; i < memory.length; i++) {
      assert.ok(memory[i]!.engineBytes > memory[i - 1]!.engineBytes, 'live tensor bytes grow with the batch');
      assert.ok(memory[i]!.peakBytes > memory[i - 1]!.peakBytes, 'the peak resident size grows with the batch, also after a larger probe');
    }
    // The small CNN's activations at 512 are tens of MB: the resident peak must see them.
    assert.ok(memory[2]!.peakBytes - memory[0]!.peakBytes > 0.5 * (memory[2]!.gradientBytes! - memory[0]!.gradientBytes!));
    // A forward-only pass as validation makes it (the evaluation batch): fewer live bytes than a training step.
    const forward = await py.result({ kind: 'memory', id: 40, batchSize: 512, forwardOnly: true });
    t.diagnostic(`forward at 512: ${forward.peakBytes} rss / ${forward.engineBytes} tensors`);
    assert.ok(forward.stepMs > 0 && forward.engineBytes > 0 && forward.engineBytes < memory[2]!.engineBytes && forward.gradientBytes === undefined);
    const again = await py.result({ kind: 'memory', id: 4, batchSize: 16 });
    assert.ok(again.peakBytes < memory[2]!.peakBytes / 2, `after a larger probe the small one reads its own peak (${again.peakBytes})`);

    const throughput = await py.result({ kind: 'throughput', id: 5, batchSize: 32, warmupSteps: 2, steps: 6 });
    assert.ok(throughput.secondsPerStep > 0 && Math.abs(throughput.samplesPerSecond * throughput.secondsPerStep - 32) < 1e-6);
    // An accumulated step (the search's timing past the memory ceiling): 32 samples in passes of 8.
    const accumulated = await py.result({ kind: 'throughput', id: 50, batchSize: 32, warmupSteps: 1, steps: 3, microBatch: 8 });
    assert.ok(accumulated.microBatch === 8 && accumulated.secondsPerStep > 0, JSON.stringify(accumulated));

    const noise = await py.result({ kind: 'noise', id: 6, microBatch: 8, k: 4, steps: 6, pretrainSteps: 6, windows: 3, learningRate: 1e-3 });
    assert.equal(noise.steps, 6);
    assert.deepEqual(
      noise.windows!.map((w) => w.samples),
      [1, 2, 3].map((w) => w * (2 + 2) * 32),
      'each window: 2 pre-training steps and 2 measured ones at batch 32',
    );
    assert.ok(noise.traceSigma > 0 && !Number.isNaN(noise.noiseScale) && noise.noiseScale === noise.windows!.at(-1)!.noiseScale);

    const trial = await py.result({ kind: 'trial', id: 7, batchSize: 32, learningRate: 1e-3, warmupSteps: 2, seconds: 1 });
    assert.ok(trial.steps >= 5 && trial.losses.length === trial.steps && trial.samples === 32 * trial.steps && trial.losses.every(Number.isFinite));
    assert.ok(Number.isFinite(trial.valLoss) && trial.valAccuracy > 0.1);

    const range = await py.result({ kind: 'learning-rate', id: 8, batchSize: 32, minRate: 1e-5, maxRate: 1e-2, steps: 20, stopFactor: 4 });
    assert.equal(range.rates.length, range.losses.length);
    assert.ok(Math.abs(range.rates[0]! - 1e-5) < 1e-12 && range.rates.every((r, i) => i === 0 || r > range.rates[i - 1]!));
    assert.equal(await py.end(), 0);
  } finally {
    py.kill();
  }
});

test(
  'torch-cpu: probes restore every weight — identical trials give identical losses around other probes; the range test stops on divergence',
  { skip, timeout: 300_000 },
  async () => {
    const f = await fixture('resnet-8'); // batch norm: its moving statistics must be restored too
    const py = new PythonTrainer();
    try {
      await py.start(session(f, 'resnet-8'));
      const trial = { kind: 'trial', batchSize: 16, learningRate: 1e-3, warmupSteps: 0, seconds: 1e-3 } as const;
      const first = await py.result({ ...trial, id: 1 });
      await py.result({ kind: 'memory', id: 2, batchSize: 16 });
      await py.result({ kind: 'noise', id: 3, microBatch: 4, k: 2, steps: 2, learningRate: 1e-2 });
      const second = await py.result({ ...trial, id: 4 });
      assert.deepEqual(second.losses.slice(0, 5), first.losses.slice(0, 5));
      assert.equal(second.valLoss, first.valLoss);

      const range = await py.result({ kind: 'learning-rate', id: 5, batchSize: 16, minRate: 1e-4, maxRate: 1e4, steps: 400, stopFactor: 4 });
      assert.ok(range.losses.length < 400, `stopped after ${range.losses.length} of 400 steps`);
      const last = range.losses.at(-1)!;
      assert.ok(!Number.isFinite(last) || last > 2 * Math.min(...range.losses), `the last loss ${last} shows the divergence`);
      assert.equal(await py.end(), 0);
    } finally {
      py.kill();
    }
  },
);

/** The same probes in a torch-cpu and a wasm session of the same net and seed; each side's results in order. */
async function onBothEngines(f: Fixture, augment: 'none' | 'light', requests: ProbeRequest[]): Promise<{ torch: Answer[]; wasm: Answer[] }> {
  process.env.AUTOBATCH_WASM_THREADS = '1';
  const py = new PythonTrainer();
  const js = new Trainer();
  try {
    await py.start(session(f, 'small', { augment }));
    const torch = [];
    for (const r of requests) torch.push(await py.probe(r));
    assert.equal((await js.next()).type, 'ready');
    js.send({
      type: 'start-probes',
      session: { kind: 'probe-session', datasetDir: f.datasetDir, model: 'small', optimizer: 'adam', backend: 'wasm', seed: 1, augment },
    });
    assert.equal((await js.next()).type, 'backend');
    const wasm = [];
    for (const r of requests) wasm.push((await js.probe(r)) as Answer);
    return { torch, wasm };
  } finally {
    py.kill();
    js.child.kill('SIGKILL');
  }
}

function relative(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

for (const augment of ['none', 'light'] as const) {
  test(
    `augment ${augment}: a trial and a noise probe on torch-cpu and on wasm from the same net agree (losses within 1e-3 relative, noise terms within 1e-3)`,
    { skip, timeout: 300_000 },
    async (t) => {
      const f = await fixture('small');
      const { torch, wasm } = await onBothEngines(f, augment, [
        { kind: 'trial', id: 1, batchSize: 32, learningRate: 1e-3, warmupSteps: 3, seconds: 1e-3 },
        { kind: 'noise', id: 2, microBatch: 8, k: 4, steps: 3, learningRate: 1e-3 },
        // Larger than the training split: the batches repeat samples and cross reshuffled passes.
        { kind: 'trial', id: 3, batchSize: 1000, learningRate: 1e-3, warmupSteps: 0, seconds: 1e-3 },
      ]);
      const [tt, tn, wt, wn] = [torch[0], torch[1], wasm[0], wasm[1]].map((a) => {
        assert.ok(a?.type === 'probe-result', JSON.stringify(a));
        return a.result;
      });
      assert.ok(tt?.kind === 'trial' && wt?.kind === 'trial' && tn?.kind === 'noise' && wn?.kind === 'noise');
      const worst = Math.max(...[0, 1, 2, 3, 4].map((i) => relative(tt.losses[i]!, wt.losses[i]!)));
      t.diagnostic(`first 5 losses: torch ${tt.losses.slice(0, 5).join(' ')}; wasm ${wt.losses.slice(0, 5).join(' ')}`);
      t.diagnostic(
        `noise: torch |G|² ${tn.gradSq} tr Σ ${tn.traceSigma} loss ${tn.windows![0]!.loss}; wasm |G|² ${wn.gradSq} tr Σ ${wn.traceSigma} loss ${wn.windows![0]!.loss}`,
      );
      assert.ok(worst <= 1e-3, `largest relative difference ${worst}`);
      const [tw, ww] = [torch[2], wasm[2]].map((a) => (a?.type === 'probe-result' && a.result.kind === 'trial' ? a.result.losses : []));
      assert.ok(tw!.length === 5 && ww!.length === 5, `5 steps at batch 1000 on both: ${JSON.stringify([tw, ww])}`);
      assert.ok(Math.max(...tw!.map((l, i) => relative(l, ww![i]!))) <= 1e-3, `batches past the split: torch ${tw!.join(' ')}; wasm ${ww!.join(' ')}`);
      assert.ok(relative(tn.windows![0]!.loss, wn.windows![0]!.loss) <= 1e-3);
      assert.ok(relative(tn.traceSigma, wn.traceSigma) <= 1e-3 && relative(tn.gradSq, wn.gradSq) <= 1e-3);
    },
  );
}

test(
  'capped test device: a probe above the cap is probe-failed oom, the next process works, and the ceiling search finds ≥ 90 % of the true ceiling in ≤ 8 steps',
  { skip, timeout: 600_000 },
  async (t) => {
    const f = await fixture('mlp');
    // The live tensor bytes at two batches give the slope; the cap is set for a ceiling near 400.
    const open = new PythonTrainer();
    let base: number;
    let perSample: number;
    try {
      await open.start(session(f, 'mlp'));
      const [a, b] = [await open.result({ kind: 'memory', id: 1, batchSize: 16 }), await open.result({ kind: 'memory', id: 2, batchSize: 64 })];
      perSample = (b.gradientBytes! - a.gradientBytes!) / 48;
      base = a.engineBytes;
      await open.end();
    } finally {
      open.kill();
    }
    const cap = Math.round(base + perSample * 400);
    let process: PythonTrainer | undefined;
    let ooms = 0;
    let id = 0;
    const device = async () => {
      if (!process) {
        process = new PythonTrainer();
        const name = await process.start(session(f, 'mlp', { memoryCapBytes: cap }));
        assert.match(name, /capped test device/);
      }
      return process;
    };
    /** One memory probe on the capped device; a failed one replaces the process, as the service does. */
    const measure = async (batchSize: number): Promise<MemoryReading> => {
      const answer = await (await device()).probe({ kind: 'memory', id: ++id, batchSize });
      if (answer.type === 'probe-failed') {
        assert.equal(answer.cause, 'oom', answer.message);
        assert.match(answer.message, /out of memory.*capped test device/);
        ooms++;
        process!.kill();
        process = undefined;
        return { batchSize, fits: false };
      }
      assert.ok(answer.result.kind === 'memory' && answer.result.memorySource === 'live-tensor-bytes' && answer.result.peakBytes <= cap);
      return { batchSize, peakBytes: answer.result.peakBytes, gradientBytes: answer.result.gradientBytes, updateBytes: answer.result.updateBytes, fits: true };
    };
    try {
      const over = await measure(4000);
      assert.ok(!over.fits, 'a batch ten times the ceiling does not fit');
      const small = [];
      for (const b of [2, 4, 8, 16]) small.push(await measure(b));
      t.diagnostic(`small probes: ${small.map((m) => `${m.batchSize}: ${m.gradientBytes} + ${m.updateBytes}`).join('; ')}`);
      const started = startCeilingSearch(small, cap, 1 << 15);
      assert.ok(started);
      const { search } = started;
      const before = ooms;
      for (let b = search.next(); b !== undefined; b = search.next()) search.report(b, (await measure(b)).fits);
      const found = search.result();
      const searchOoms = ooms - before;
      // The truth, by bisection with real probes on the same capped device.
      let lo = 16;
      let hi = 4000;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if ((await measure(mid)).fits) lo = mid;
        else hi = mid;
      }
      t.diagnostic(
        `cap ${cap} B: ceiling found ${found.ceiling} in ${found.steps} steps (predicted ${found.predicted}); true largest batch ${lo}; ${searchOoms} oom probes in the search`,
      );
      assert.ok(found.steps <= 8, `${found.steps} verification steps`);
      assert.ok(found.ceiling >= 0.9 * lo && found.ceiling <= lo, `ceiling ${found.ceiling}, true largest ${lo}`);
      assert.ok(searchOoms >= 1, 'the search hit the cap at least once');
    } finally {
      process?.kill();
    }
  },
);

test(
  'the memory counters on plain tensors: live storages counted once, views free, the cap fails as out of memory, VmHWM resets',
  { skip, timeout: 60_000 },
  () => {
    const r = spawnSync(torchPython(), [path.join(root, 'test', 'python', 'live_memory_check.py')], {
      encoding: 'utf8',
      env: pythonProcessEnv(),
      timeout: 50_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const checks = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { check: string; ok: boolean; detail: unknown });
    assert.ok(checks.length >= (process.platform === 'linux' ? 10 : 8), r.stdout);
    for (const c of checks) assert.ok(c.ok, `${c.check}: ${JSON.stringify(c.detail)}`);
  },
);
