// On a machine with PyTorch (CI installs Debian's python3-torch): `auto` resolves to a torch rung
// before any trainer starts — torch-cpu where there is no GPU — with a python3 on PATH that has
// no torch passed over with its reason, the real tfjs detection for the rungs in between, and
// the run's stored report carrying the rung and every skip. The Python trainer itself is another
// test's: here a stand-in takes the job (the spawner the service is given).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AutoBatchService, type PythonSpawnerFactory } from '../../src/main/service/service.js';
import { ApiDispatcher } from '../../src/main/service/api-dispatch.js';
import type { TrainerProcess } from '../../src/main/service/trainer-host.js';
import type { HostMessage } from '../../src/shared/trainer-protocol.js';
import type { Backends } from '../../src/shared/api/index.js';
import { missing } from '../support/parts.js';

/** The same interpreter without its site packages (so without torch), first on PATH as python3: a virtualenv or pyenv shim as users have them. */
function pathWithTorchlessPython3(): string {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'autobatch-torchless-'));
  writeFileSync(path.join(bin, 'python3'), '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
  chmodSync(path.join(bin, 'python3'), 0o755);
  return `${bin}${path.delimiter}${process.env.PATH ?? ''}`;
}

test(
  'auto resolves to a torch rung with the torchless python3 on PATH rejected, and the run stores the rung and every skip',
  { timeout: 240_000, skip: missing('torch') },
  async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: pathWithTorchlessPython3() };
    delete env.AUTOBATCH_PYTHON;
    const started: { python: string; job?: HostMessage }[] = [];
    // Test wiring only: a stand-in for python-trainer.ts's spawner, which reports what the Python trainer would.
    const pythonSpawner: PythonSpawnerFactory =
      ({ python }) =>
      () => {
        const record: { python: string; job?: HostMessage } = { python };
        started.push(record);
        let message: (m: unknown) => void = () => {};
        let exit: (c: number | null, s: NodeJS.Signals | null) => void = () => {};
        const proc: TrainerProcess = {
          pid: undefined,
          send: (msg) => {
            if (msg.type === 'start') {
              record.job = msg;
              setImmediate(() => message({ type: 'backend', report: { name: 'torch', device: 'CPU (PyTorch)', skipped: [] } }));
            }
            if (msg.type === 'stop') setImmediate(() => exit(0, null));
          },
          kill: (signal) => setImmediate(() => exit(null, signal ?? 'SIGTERM')),
          onMessage: (cb) => (message = cb),
          onExit: (cb) => (exit = cb),
        };
        return proc;
      };
    const home = mkdtempSync(path.join(os.tmpdir(), 'autobatch-it-torch-'));
    const service = new AutoBatchService({ home, env, pythonSpawner });
    const dispatcher = new ApiDispatcher(service, { validateResults: true });
    try {
      const resolved = await service.backends.resolve('auto');
      assert.ok(resolved.ok, JSON.stringify(resolved));
      assert.match(resolved.rung, /^torch-/);
      const cudaSkip = resolved.skipped.find((s) => s.backend.startsWith('torch-cuda'));
      if (cudaSkip) assert.equal(resolved.rung, 'torch-cpu', 'no CUDA, no Apple GPU: torch-cpu');

      const backends = (await dispatcher.call('detectBackends', {})) as Backends;
      const python3 = backends.python.candidates.find((c) => c.command === 'python3');
      assert.ok(python3, JSON.stringify(backends.python));
      assert.equal(python3.source, 'PATH');
      assert.match(python3.rejected ?? '', /^torch does not import: ModuleNotFoundError: No module named 'torch'/);
      assert.ok(backends.python.executable && backends.python.torchVersion, JSON.stringify(backends.python));
      assert.equal(backends.auto?.rung, resolved.rung);
      const cpu = backends.backends.find((b) => b.choice === 'torch-cpu')!;
      assert.deepEqual([cpu.engine, cpu.available], ['torch', true]);
      assert.match(cpu.device ?? '', /PyTorch/);
      assert.deepEqual(
        backends.backends.map((b) => b.choice),
        ['torch-cuda', 'torch-mps', 'tensorflow', 'webgpu', 'torch-cpu', 'tensorflow', 'wasm', 'cpu'],
      );

      const source = path.join(home, 'table.csv');
      writeFileSync(source, ['a,b,label', ...Array.from({ length: 40 }, (_, i) => `${i % 7},${i % 5},${i % 2 ? 'odd' : 'even'}`)].join('\n') + '\n');
      const ds = await service.importDataset(source, { name: 'table' });
      const { runId, done } = service.startTraining({ dataset: ds.id, config: { model: 'mlp', batchSize: 8, epochs: 1, backend: 'auto' } });
      while (service.getRun(runId).status === 'queued') await new Promise((r) => setTimeout(r, 10));
      service.stopRun(runId);
      const run = await done;
      assert.equal(started.length, 1);
      assert.equal(started[0]!.python, backends.python.executable);
      assert.equal((started[0]!.job as Extract<HostMessage, { type: 'start' }>).job.config.backend, resolved.rung);
      assert.equal(run.rung, resolved.rung);
      assert.deepEqual(run.backendSkipped, resolved.skipped);
    } finally {
      dispatcher.close();
      await service.close();
    }
  },
);
