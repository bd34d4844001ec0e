// The trainer whose engine is chosen when its job arrives (routed-trainer.ts), and the service's
// routing: auto resolved before any trainer starts, the rung and the host's skips on the stored
// report, a stop or kill before the process exists ending the run as it should, memory-capped
// test jobs staying on tfjs, Auto-tune's probe sessions routed the same way (a torch rung on the
// Python trainer, its memory cap with it), and "Train with this" on the tuning's rung.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TrainerHost, type TrainerProcess, type TrainerSpawner } from '../../../src/main/service/trainer-host.js';
import { routedSpawner, type Route } from '../../../src/main/service/routed-trainer.js';
import { AutoBatchService, type PythonSpawnerFactory } from '../../../src/main/service/service.js';
import { BackendResolver } from '../../../src/main/service/backend-resolver.js';
import type { HostMessage, TrainJob } from '../../../src/shared/trainer-protocol.js';
import type { ProbeHostMessage } from '../../../src/shared/probe-protocol.js';
import { openStore } from '../../../src/main/store/index.js';
import { ApiDispatcher } from '../../../src/main/service/api-dispatch.js';
import { fakeEnvironment, skipOnWindows, tfjsOnWasm } from './fake-python.js';

const job: TrainJob = {
  kind: 'train',
  runId: 1,
  datasetDir: '/nowhere',
  config: { model: 'small', batchSize: 8, epochs: 1, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'auto', seed: 1 },
};

/** A stand-in trainer (or probe process): records what it is sent, reports a backend when started, stops or ends when asked. */
function standIn(
  log: { sent: (HostMessage | ProbeHostMessage)[]; spawned: number; probeGate?: Promise<void> },
  report = { name: 'wasm', rung: 'wasm', device: 'CPU, wasm', skipped: [] as { backend: string; reason: string }[] },
): TrainerSpawner {
  return () => {
    log.spawned++;
    let exit: (code: number | null, signal: NodeJS.Signals | null) => void = () => {};
    let message: (m: unknown) => void = () => {};
    const proc: TrainerProcess = {
      pid: 4242,
      send: (msg) => {
        log.sent.push(msg);
        if (msg.type === 'start' || msg.type === 'start-probes') setImmediate(() => message({ type: 'backend', report }));
        if (msg.type === 'stop' || msg.type === 'end') setImmediate(() => exit(0, null));
        // A probe is held until the test opens the gate (it has asked the search to stop), then fails.
        if (msg.type === 'probe') {
          const id = msg.request.id;
          void (log.probeGate ?? Promise.resolve()).then(() => message({ type: 'probe-failed', id, cause: 'error', message: 'a stand-in measures nothing' }));
        }
      },
      kill: (signal) => setImmediate(() => exit(null, signal ?? 'SIGTERM')),
      onMessage: (cb) => (message = cb),
      onExit: (cb) => (exit = cb),
    };
    return proc;
  };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('a routed trainer process', () => {
  it('starts the routed trainer with the routed job, and puts the rung and the host skips on its report', async () => {
    const log = { sent: [] as (HostMessage | ProbeHostMessage)[], spawned: 0 };
    const hostSkip = { backend: 'torch-cpu (PyTorch, CPU)', reason: 'no torch' };
    const spawn = standIn(log, { name: 'wasm', rung: 'wasm', device: 'CPU, wasm', skipped: [{ backend: 'webgpu (Dawn)', reason: 'software' }, hostSkip] });
    const routed = { ...job, config: { ...job.config, backend: 'wasm' as const } };
    const host = new TrainerHost(job, { spawn: routedSpawner(async () => ({ ok: true, spawn, job: routed, rung: 'wasm', skipped: [hostSkip] })) });
    const report = await new Promise((resolve) => host.on('backend', resolve));
    assert.deepEqual(log.sent[0], { type: 'start', job: routed });
    assert.deepEqual(report, { name: 'wasm', rung: 'wasm', device: 'CPU, wasm', skipped: [hostSkip, { backend: 'webgpu (Dawn)', reason: 'software' }] });
    host.stop();
    assert.equal((await host.done).status, 'stopped');
  });

  it('stopped before its trainer exists: the run ends stopped and no trainer starts', async () => {
    const log = { sent: [] as (HostMessage | ProbeHostMessage)[], spawned: 0 };
    const gate = deferred<Route>();
    const host = new TrainerHost(job, { spawn: routedSpawner(() => gate.promise) });
    host.stop();
    assert.equal((await host.done).status, 'stopped');
    gate.resolve({ ok: true, spawn: standIn(log), job, skipped: [] });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(log.spawned, 0);
  });

  it('killed before its trainer exists: interrupted', async () => {
    const gate = deferred<Route>();
    const host = new TrainerHost(job, { spawn: routedSpawner(() => gate.promise) });
    host.kill();
    const outcome = await host.done;
    assert.equal(outcome.status, 'interrupted');
    assert.match((outcome as { message: string }).message, /SIGKILL/);
  });

  it('no trainer for the job: failed with the route’s cause and message, not hung while it was worked out', async () => {
    const host = new TrainerHost(job, {
      heartbeatTimeoutMs: 300,
      spawn: routedSpawner(async () => {
        await new Promise((r) => setTimeout(r, 600));
        return { ok: false, cause: 'backend', message: 'backend torch-cuda is not available: no CUDA' };
      }),
    });
    const outcome = await host.done;
    assert.equal(outcome.status, 'failed');
    assert.deepEqual(
      [(outcome as { cause: string }).cause, (outcome as { message: string }).message],
      ['backend', 'backend torch-cuda is not available: no CUDA'],
    );
  });
});

// ---- the service ------------------------------------------------------------------------------

const env = fakeEnvironment;

describe('the service routes runs', { skip: skipOnWindows }, () => {
  let root: string;
  let log: { sent: (HostMessage | ProbeHostMessage)[]; spawned: number; probeGate?: Promise<void> };
  let openProbes: () => void;
  let services: AutoBatchService[];
  let tfjsGate: Promise<void>;
  let pythonsStarted: string[];

  /** A service on a fake machine: a python3 with or without torch on PATH, tfjs's auto on wasm. */
  function service(torch: string | null, extra: { pythonSpawner?: PythonSpawnerFactory } = {}): AutoBatchService {
    const home = mkdtempSync(path.join(root, 'home-'));
    const bin = mkdtempSync(path.join(root, 'bin-'));
    writeFileSync(path.join(bin, 'python3'), '#!/bin/sh\nexit 9\n');
    chmodSync(path.join(bin, 'python3'), 0o755);
    const resolver = new BackendResolver({
      home,
      appVersion: 'test',
      search: () => ({ pathEnv: bin }),
      probe: async (exe) => (exe.startsWith(bin) ? { ok: true, environment: env(torch) } : { ok: false, reason: 'not this test’s' }),
      detectTfjs: async () => {
        await tfjsGate;
        return tfjsOnWasm;
      },
    });
    const s = new AutoBatchService({ home, spawn: standIn(log), resolver, ...extra });
    services.push(s);
    return s;
  }

  async function dataset(s: AutoBatchService) {
    const source = path.join(mkdtempSync(path.join(root, 'src-')), 'table.csv');
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2 ? 'odd' : 'even'}`);
    writeFileSync(source, ['a,b,label', ...rows].join('\n') + '\n');
    return s.importDataset(source, { name: 'table' });
  }

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'abs-route-'));
    log = { sent: [], spawned: 0, probeGate: new Promise((r) => (openProbes = r)) };
    services = [];
    tfjsGate = Promise.resolve();
    pythonsStarted = [];
  });
  afterEach(async () => {
    for (const s of services) await s.close();
  });

  const config = { model: 'mlp' as const, batchSize: 8, epochs: 1, learningRate: 1e-3 };

  it('auto without torch: the tfjs trainer gets the resolved rung; the stored report has it and every host skip first', async () => {
    const s = service(null);
    const d = await dataset(s);
    const { runId, done } = s.startTraining({ dataset: d.id, config: { ...config, backend: 'auto' } });
    while (s.getRun(runId).status !== 'running') await new Promise((r) => setTimeout(r, 5));
    const start = log.sent.find((m) => m.type === 'start') as Extract<HostMessage, { type: 'start' }>;
    assert.equal(start.job.config.backend, 'wasm');
    s.stopRun(runId);
    const run = await done;
    assert.equal(run.status, 'stopped');
    assert.equal(run.config.backend, 'auto', 'the run keeps what was asked');
    assert.equal(run.rung, 'wasm');
    assert.deepEqual(
      run.backendSkipped.map((k) => k.backend),
      [
        'torch-cuda (PyTorch, CUDA)',
        'torch-mps (PyTorch, Apple MPS)',
        'tensorflow (CUDA, tfjs-node-gpu)',
        'webgpu (Dawn)',
        'torch-cpu (PyTorch, CPU)',
        'tensorflow (CPU, tfjs-node)',
      ],
    );
  });

  it('auto with torch: torch-cpu on the Python trainer with the interpreter found', async () => {
    const pythonSpawner: PythonSpawnerFactory = ({ python }) => {
      pythonsStarted.push(python);
      return standIn(log, { name: 'torch', rung: 'torch-cpu', device: 'CPU (PyTorch)', skipped: [] });
    };
    const s = service('1.13.0a0', { pythonSpawner });
    const d = await dataset(s);
    const { runId, done } = s.startTraining({ dataset: d.id, config: { ...config, backend: 'auto' } });
    while (s.getRun(runId).status !== 'running') await new Promise((r) => setTimeout(r, 5));
    s.stopRun(runId);
    const run = await done;
    assert.equal(pythonsStarted.length, 1);
    assert.match(pythonsStarted[0]!, /bin-.*\/python3$/);
    assert.equal(run.rung, 'torch-cpu');
    assert.equal(run.backend, 'torch');
    assert.equal((log.sent[0] as Extract<HostMessage, { type: 'start' }>).job.config.backend, 'torch-cpu');
  });

  it('returns the run id at once, and a stop while the backend is still being detected ends the run stopped', async () => {
    let open!: () => void;
    tfjsGate = new Promise((r) => (open = r));
    const s = service(null);
    const d = await dataset(s);
    const { runId, done } = s.startTraining({ dataset: d.id, config: { ...config, backend: 'auto' } });
    assert.equal(s.getRun(runId).status, 'queued');
    await new Promise((r) => setTimeout(r, 20));
    s.stopRun(runId);
    const run = await done;
    assert.equal(run.status, 'stopped');
    open();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(log.spawned, 0, 'no trainer was started for it');
  });

  it('an explicit torch rung that is not there fails the run with the reason', async () => {
    const s = service(null);
    const d = await dataset(s);
    const run = await s.startTraining({ dataset: d.id, config: { ...config, backend: 'torch-cpu' } }).done;
    assert.equal(run.status, 'failed');
    assert.match(
      run.error ?? '',
      /^backend: backend torch-cpu is not available: torch-cpu \(PyTorch, CPU\): no Python 3\.8\+ with torch 1\.13\+ found \(python3: torch does not import/,
    );
    assert.equal(log.spawned, 0);
  });

  it('memory-capped test jobs stay on tfjs, unresolved', async () => {
    const s = service('2.1.0', { pythonSpawner: () => assert.fail('no Python trainer for a capped job') });
    const d = await dataset(s);
    const { runId, done } = s.startTraining({ dataset: d.id, config: { ...config, backend: 'cpu' }, memoryCapBytes: 1 << 20 });
    while (s.getRun(runId).status !== 'running') await new Promise((r) => setTimeout(r, 5));
    s.stopRun(runId);
    await done;
    assert.equal((log.sent[0] as Extract<HostMessage, { type: 'start' }>).job.config.backend, 'cpu');
  });

  /** Waits until the search has stored its backend (the probe session started). */
  async function searchStarted(s: AutoBatchService, sessionId: number) {
    while (s.getTuning(sessionId).backend === null && s.getTuning(sessionId).status === 'running') await new Promise((r) => setTimeout(r, 5));
    return s.getTuning(sessionId);
  }

  /** The session the trainer was started with. */
  const probeSession = () => (log.sent.find((m) => m.type === 'start-probes') as Extract<ProbeHostMessage, { type: 'start-probes' }>).session;

  it('auto with torch: the search runs on the Python trainer (torch-cpu), its rung and the host skips on the stored report', async () => {
    const pythonSpawner: PythonSpawnerFactory = ({ python }) => {
      pythonsStarted.push(python);
      return standIn(log, { name: 'torch', rung: 'torch-cpu', device: 'CPU (PyTorch)', skipped: [] });
    };
    const s = service('1.13.0a0', { pythonSpawner });
    const d = await dataset(s);
    const { sessionId, done } = s.startTuning({ dataset: d.id, model: 'mlp', backend: 'auto' });
    const t = await searchStarted(s, sessionId);
    s.stopTuning(sessionId);
    openProbes();
    await done;
    assert.equal(pythonsStarted.length, 1);
    assert.match(pythonsStarted[0]!, /bin-.*\/python3$/);
    assert.equal(probeSession().backend, 'torch-cpu');
    assert.equal(probeSession().memoryCapBytes, undefined);
    assert.equal(t.request.backend, 'auto', 'the search keeps what was asked');
    assert.equal(t.backend, 'torch');
    assert.equal(t.rung, 'torch-cpu');
    assert.equal(t.device, 'CPU (PyTorch)');
  });

  it('auto without torch: the tfjs trainer probes on the resolved rung', async () => {
    const s = service(null, { pythonSpawner: () => assert.fail('no Python trainer without torch') });
    const d = await dataset(s);
    const { sessionId, done } = s.startTuning({ dataset: d.id, model: 'mlp', backend: 'auto' });
    const t = await searchStarted(s, sessionId);
    s.stopTuning(sessionId);
    openProbes();
    await done;
    assert.equal(probeSession().backend, 'wasm');
    assert.equal(t.rung, 'wasm');
  });

  it('an explicit torch rung that is not there fails the search with the reason, no trainer started', async () => {
    const s = service(null);
    const d = await dataset(s);
    const t = await s.startTuning({ dataset: d.id, model: 'mlp', backend: 'torch-cpu' }).done;
    assert.equal(t.status, 'failed');
    assert.match(t.error ?? '', /^backend torch-cpu is not available: torch-cpu \(PyTorch, CPU\): no Python 3\.8\+ with torch 1\.13\+ found/);
    assert.equal(log.spawned, 0);
  });

  it('a memory-capped search on a torch rung takes its cap to the Python trainer', async () => {
    const s = service('2.1.0', { pythonSpawner: () => standIn(log, { name: 'torch', rung: 'torch-cpu', device: 'CPU (PyTorch)', skipped: [] }) });
    const d = await dataset(s);
    const { sessionId, done } = s.startTuning({ dataset: d.id, model: 'mlp', backend: 'torch-cpu', memoryCapBytes: 1 << 20 });
    const t = await searchStarted(s, sessionId);
    s.stopTuning(sessionId);
    openProbes();
    await done;
    assert.equal(probeSession().memoryCapBytes, 1 << 20);
    assert.equal(probeSession().backend, 'torch-cpu');
    assert.equal(t.budgetBytes, 1 << 20, 'the cap is the budget');
  });

  it('a search that names no backend follows the Settings default, a torch rung included', async () => {
    const s = service('2.1.0', { pythonSpawner: () => standIn(log, { name: 'torch', rung: 'torch-cpu', device: 'CPU (PyTorch)', skipped: [] }) });
    const d = await dataset(s);
    const dispatcher = new ApiDispatcher(s);
    try {
      await dispatcher.call('updateSettings', { backend: 'torch-cpu' });
      const { sessionId } = (await dispatcher.call('startTuning', { dataset: d.id, model: 'mlp' })) as { sessionId: number };
      assert.equal(s.getTuning(sessionId).request.backend, 'torch-cpu');
      assert.equal((await searchStarted(s, sessionId)).rung, 'torch-cpu');
      s.stopTuning(sessionId);
      openProbes();
    } finally {
      dispatcher.close();
    }
  });

  it('"Train with this" trains on the rung the search ran on', async () => {
    const s = service('2.1.0');
    const d = await dataset(s);
    // A finished search that ran on webgpu (asked: auto), and an older one stored without its rung.
    const store = openStore(s.paths.home, { recoverInterrupted: false });
    const request = {
      model: 'mlp',
      mode: 'quick',
      optimizer: 'adam',
      backend: 'auto',
      baseBatchSize: 16,
      baseLearningRate: 1e-3,
      plannedEpochs: 5,
      seed: 1,
    } as const;
    const report = {
      recommendation: { batchSize: 16, learningRate: 1e-3, warmupSteps: 0, optimizer: 'adam' },
      reasons: [],
      curves: [{ batchSize: 16 }],
      searchSeconds: 1,
    };
    const withRung = store.tuning.create(d.id, request);
    store.tuning.setBackend(withRung.id, { name: 'webgpu', rung: 'webgpu', device: 'GPU', skipped: [] }, 1e9);
    store.tuning.finish(withRung.id, 'completed', { report: report as never, searchSeconds: 1 });
    const old = store.tuning.create(d.id, request);
    store.tuning.setBackend(old.id, { name: 'wasm', device: 'CPU', skipped: [] }, 1e9);
    store.tuning.finish(old.id, 'completed', { report: report as never, searchSeconds: 1 });
    store.close();
    for (const [session, rung] of [
      [withRung.id, 'webgpu'],
      [old.id, 'wasm'],
    ] as const) {
      const { runId, done } = s.startTraining({ dataset: '', fromTuning: session, config: { epochs: 1 } });
      assert.equal(s.getRun(runId).config.backend, rung);
      s.stopRun(runId);
      await done;
    }
  });
});
