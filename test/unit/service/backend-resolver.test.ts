// Resolving a backend choice to one rung of the full ladder from a fake detection (fake
// interpreters and a fake tfjs detection process), and when the cached detection is dropped.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BACKEND_CHOICES, type BackendChoice } from '../../../src/shared/run-types.js';
import { BackendResolver, DETECTION_FILE, FULL_LADDER, torchRungStatus } from '../../../src/main/service/backend-resolver.js';
import type { DetectOutcome } from '../../../src/main/engine/backends/detect-protocol.js';
import type { PythonSearch, ProbeResult } from '../../../src/main/service/python-discovery.js';
import { BACKEND_LADDER } from '../../../src/main/engine/backends/select-backend.js';
import { fakeEnvironment, skipOnWindows, tfjsOnWasm } from './fake-python.js';

const env = fakeEnvironment;

/** One executable file per fake interpreter (discovery looks them up on disk); what each "has" is the fake probe's answer. */
function fakeMachine(answers: Record<string, ProbeResult>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'abs-res-'));
  for (const name of Object.keys(answers)) {
    const f = path.join(dir, name);
    writeFileSync(f, '#!/bin/sh\nexit 9\n');
    chmodSync(f, 0o755);
  }
  const probed: string[] = [];
  const tfjsRuns: BackendChoice[] = [];
  let tfjs: DetectOutcome = tfjsOnWasm;
  let search: PythonSearch = { pathEnv: dir };
  let now = 1_000_000;
  const home = mkdtempSync(path.join(os.tmpdir(), 'abs-home-'));
  const make = (appVersion = '1.0.0') =>
    new BackendResolver({
      home,
      appVersion,
      search: () => search,
      probe: async (exe) => {
        probed.push(path.basename(exe));
        return answers[path.basename(exe)] ?? { ok: false, reason: 'unknown fake' };
      },
      detectTfjs: async (choice) => {
        tfjsRuns.push(choice);
        return tfjs;
      },
      now: () => now,
    });
  return {
    dir,
    home,
    probed,
    tfjsRuns,
    make,
    setTfjs: (o: DetectOutcome) => (tfjs = o),
    setSearch: (s: PythonSearch) => (search = { pathEnv: dir, ...s }),
    advance: (ms: number) => (now += ms),
  };
}

describe('the full ladder', () => {
  it('is BACKEND_CHOICES order, tensorflow on two rungs around webgpu and torch-cpu, with tfjs labels kept', () => {
    assert.deepEqual(
      FULL_LADDER.map((r) => r.choice),
      ['torch-cuda', 'torch-mps', 'tensorflow', 'webgpu', 'torch-cpu', 'tensorflow', 'wasm', 'cpu'],
    );
    assert.deepEqual(
      [...new Set(FULL_LADDER.map((r) => r.choice))],
      BACKEND_CHOICES.filter((c) => c !== 'auto'),
    );
    assert.deepEqual(
      FULL_LADDER.filter((r) => r.engine === 'tfjs').map((r) => r.label),
      BACKEND_LADDER.map((r) => r.label),
    );
  });
});

describe('resolving', { skip: skipOnWindows }, () => {
  it('auto on a CPU-only machine with torch: torch-cpu, after every higher rung with its reason; python3 without torch passed over', async () => {
    const m = fakeMachine({ python3: { ok: true, environment: env(null) }, python: { ok: true, environment: env('1.13.0a0') } });
    const r = await m.make().resolve('auto');
    assert.ok(r.ok);
    assert.equal(r.rung, 'torch-cpu');
    assert.equal(r.python, path.join(m.dir, 'python'));
    assert.deepEqual(
      r.skipped.map((s) => s.backend),
      ['torch-cuda (PyTorch, CUDA)', 'torch-mps (PyTorch, Apple MPS)', 'tensorflow (CUDA, tfjs-node-gpu)', 'webgpu (Dawn)'],
    );
    assert.equal(r.skipped[0]!.reason, 'this torch is built without CUDA (a CPU-only build)');
    assert.match(
      r.skipped[1]!.reason,
      process.platform === 'darwin'
        ? /no Python 3\.8\+ with torch 2\.0\+ found .*python: torch 1\.13\.0a0 is older than 2\.0/
        : /Apple MPS exists only on macOS/,
    );
    assert.match(r.skipped[3]!.reason, /software adapter/);
    assert.deepEqual(m.tfjsRuns, ['auto'], 'one tfjs detection process: its auto run');
  });

  it('auto with CUDA torch stops at torch-cuda without starting any tfjs detection', async () => {
    const m = fakeMachine({ python3: { ok: true, environment: env('2.2.0', { cuda: { available: true, device: 'NVIDIA H200', reason: null } }) } });
    const r = await m.make().resolve('auto');
    assert.ok(r.ok);
    assert.equal(r.rung, 'torch-cuda');
    assert.equal(r.device, 'NVIDIA H200 (CUDA, PyTorch 2.2.0)');
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(m.tfjsRuns, []);
  });

  it('auto without torch: the tfjs rung tfjs would start on, torch-cpu among the skips', async () => {
    const m = fakeMachine({ python3: { ok: true, environment: env(null) } });
    const r = await m.make().resolve('auto');
    assert.ok(r.ok);
    assert.equal(r.rung, 'wasm');
    assert.deepEqual(
      r.skipped.map((s) => s.backend),
      FULL_LADDER.slice(0, 6).map((x) => x.label),
    );
    assert.match(r.skipped.find((s) => s.backend.startsWith('torch-cpu'))!.reason, /python3: torch does not import/);
  });

  it('auto with a hardware WebGPU takes it before torch-cpu', async () => {
    const m = fakeMachine({ python3: { ok: true, environment: env('2.1.0') } });
    m.setTfjs({ ok: true, report: { name: 'webgpu', rung: 'webgpu', device: 'NVIDIA RTX (Vulkan)', skipped: [tfjsOnWasm.report.skipped[0]!] } });
    const r = await m.make().resolve('auto');
    assert.ok(r.ok);
    assert.equal(r.rung, 'webgpu');
    assert.equal(r.device, 'NVIDIA RTX (Vulkan)');
  });

  it('an explicit tfjs choice needs no detection; an explicit torch choice fails with its reason', async () => {
    const m = fakeMachine({ python3: { ok: true, environment: env('1.13.1') } });
    const resolver = m.make();
    assert.deepEqual(await resolver.resolve('wasm'), { ok: true, rung: 'wasm', skipped: [], python: null, device: null });
    assert.deepEqual(m.probed, []);
    const cuda = await resolver.resolve('torch-cuda');
    assert.equal(cuda.ok, false);
    assert.equal(
      !cuda.ok && cuda.message,
      'backend torch-cuda is not available: torch-cuda (PyTorch, CUDA): this torch is built without CUDA (a CPU-only build)',
    );
    const cpu = await resolver.resolve('torch-cpu');
    assert.ok(cpu.ok && cpu.rung === 'torch-cpu' && cpu.python === path.join(m.dir, 'python3'));
    assert.deepEqual(m.tfjsRuns, []);
  });
});

describe('the detection cache', { skip: skipOnWindows }, () => {
  it('is kept in memory and on disk, and asked again after a refresh, a different Python setting, another app version, or a day', async () => {
    const m = fakeMachine({ python3: { ok: true, environment: env(null) }, other: { ok: true, environment: env('2.0.0') } });
    const first = m.make();
    await first.resolve('auto');
    // python3 on the fake PATH, and /usr/bin/python3 where this machine has one (the fake probe answers for it too).
    const n = m.probed.length;
    assert.ok(n >= 1 && m.probed[0] === 'python3');
    assert.equal(m.tfjsRuns.length, 1);
    await first.resolve('auto');
    assert.deepEqual([m.probed.length, m.tfjsRuns.length], [n, 1], 'memory');
    assert.ok(existsSync(path.join(m.home, DETECTION_FILE)));

    // Another process of the same app on the same data folder: from the file.
    await m.make().resolve('auto');
    assert.deepEqual([m.probed.length, m.tfjsRuns.length], [n, 1], 'disk');

    // Refresh.
    const refreshed = m.make();
    refreshed.invalidate();
    await refreshed.resolve('auto');
    assert.deepEqual([m.probed.length, m.tfjsRuns.length], [2 * n, 2], 'refresh drops both');

    // A different Python setting: the answers are about other interpreters.
    m.setSearch({ settings: path.join(m.dir, 'other') });
    const r = await refreshed.resolve('auto');
    assert.ok(r.ok && r.rung === 'torch-cpu' && r.python === path.join(m.dir, 'other'));
    assert.equal(m.tfjsRuns.length, 3);

    // Another app version.
    await m.make('1.1.0').resolve('auto');
    assert.equal(m.tfjsRuns.length, 4);
    const stored = JSON.parse(readFileSync(path.join(m.home, DETECTION_FILE), 'utf8')) as { key: string };
    assert.match(stored.key, /"app":"1\.1\.0"/);

    // Age.
    const aged = m.make('1.1.0');
    await aged.resolve('auto');
    assert.equal(m.tfjsRuns.length, 4);
    m.advance(25 * 60 * 60 * 1000);
    await aged.resolve('auto');
    assert.equal(m.tfjsRuns.length, 5, 'a day later it looks again');
  });

  it('a damaged cache file is ignored', async () => {
    const m = fakeMachine({ python3: { ok: true, environment: env('2.0.0') } });
    writeFileSync(path.join(m.home, DETECTION_FILE), '{ not json');
    const r = await m.make().resolve('torch-cpu');
    assert.ok(r.ok);
    assert.equal(m.probed.length, 1);
  });
});

describe('a torch rung’s state', () => {
  const finding = { executable: '/usr/bin/python3', pythonVersion: '3.11.2', torchVersion: '2.2.0', candidates: [] };
  it('torch-mps off macOS: said so, whatever the Python has', () => {
    const r = torchRungStatus('torch-mps', { finding, environment: env('2.2.0') }, 'linux');
    assert.deepEqual(r, { available: false, reason: 'Apple MPS exists only on macOS (this is linux)' });
  });
  it('torch-mps on macOS: available when the environment says so, else its reason', () => {
    const on = torchRungStatus('torch-mps', { finding, environment: env('2.2.0', { mps: { available: true, reason: null } }) }, 'darwin');
    assert.deepEqual(on, { available: true, device: 'Apple GPU (MPS, PyTorch 2.2.0)' });
    const off = torchRungStatus(
      'torch-mps',
      { finding, environment: env('2.2.0', { mps: { available: false, reason: 'this Mac has no Metal GPU' } }) },
      'darwin',
    );
    assert.deepEqual(off, { available: false, reason: 'this Mac has no Metal GPU' });
  });
});
