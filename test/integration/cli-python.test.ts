// Which Python the torch rungs use, from the command line: `settings --python` kept with the
// other settings, `--python` and AUTOBATCH_PYTHON tried first by the commands that train, and
// Auto-tune refusing a torch rung until its probes exist. The interpreter here is a fake (a shell
// script answering as environment.py would), so what is checked does not depend on this
// machine's Python — and no trainer starts: the torch-cuda rung it asks for is not available.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempHome } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin', 'autobatch.js');
const skip = process.platform === 'win32' ? 'shell-script interpreters' : false;

function cli(home: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const base: NodeJS.ProcessEnv = { ...process.env, AUTOBATCH_HOME: home };
  delete base.AUTOBATCH_PYTHON;
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...base, ...env }, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

/** A Python with torch 2.4 whose CUDA is not available, for the reason `why`. */
function fakePython(home: string, name: string, why: string): string {
  const file = path.join(home, name);
  const env = {
    python: '3.12.3',
    executable: file,
    torch: '2.4.0',
    torchError: null,
    cuda: { available: false, device: null, reason: why },
    mps: { available: false, reason: 'fake: no MPS' },
    cpuThreads: 2,
  };
  writeFileSync(file, `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify(env)}\nJSON\n`);
  chmodSync(file, 0o755);
  return file;
}

test('settings --python is kept in the data folder, shown, and cleared with --clear-python', () => {
  const home = tempHome();
  const set = cli(home, ['settings', '--python', '/opt/conda/bin/python', '--json']);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(set.json().pythonPath, '/opt/conda/bin/python');
  const shown = cli(home, ['settings']);
  assert.match(shown.stdout, /^Python\s+\/opt\/conda\/bin\/python \(PyTorch engine/m);
  assert.equal(cli(home, ['settings', '--clear-python', '--json']).json().pythonPath, null);
  assert.match(cli(home, ['settings']).stdout, /^Python\s+not set: PATH, then \/usr\/bin\/python3/m);
  const empty = cli(home, ['settings', '--python', ' ']);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /expected the path or command of a Python interpreter/);
});

test('--python, then AUTOBATCH_PYTHON, then the settings: the first is the one a torch run resolves with', { skip, timeout: 300_000 }, () => {
  const home = tempHome();
  assert.equal(cli(home, ['datasets', 'import', 'sample:mnist', '--limit', '100', '--json']).code, 0);
  const flag = fakePython(home, 'flag-python', 'fake: asked through --python');
  const env = fakePython(home, 'env-python', 'fake: asked through AUTOBATCH_PYTHON');
  const settings = fakePython(home, 'settings-python', 'fake: asked through the settings');
  assert.equal(cli(home, ['settings', '--python', settings]).code, 0);
  const train = (extra: string[], e: NodeJS.ProcessEnv = {}) =>
    cli(
      home,
      ['train', '--dataset', 'mnist', '--model', 'mlp', '--batch-size', '8', '--epochs', '1', '--lr', '0.001', '--backend', 'torch-cuda', ...extra, '--json'],
      e,
    );
  const cases: [string[], NodeJS.ProcessEnv, string][] = [
    [['--python', flag], { AUTOBATCH_PYTHON: env }, 'fake: asked through --python'],
    [[], { AUTOBATCH_PYTHON: env }, 'fake: asked through AUTOBATCH_PYTHON'],
    [[], {}, 'fake: asked through the settings'],
  ];
  for (const [extra, e, reason] of cases) {
    const r = train(extra, e);
    assert.equal(r.code, 1, r.stderr);
    // A failed run prints the run, then the error, as two documents.
    const run = JSON.parse(r.stdout.slice(0, r.stdout.indexOf('\n}\n') + 2)) as { status: string; error: string };
    assert.equal(run.status, 'failed');
    assert.equal(run.error, `backend: backend torch-cuda is not available: torch-cuda (PyTorch, CUDA): ${reason}`);
  }
});

test('Auto-tune on a torch rung this machine lacks fails with the reason', { skip: process.platform === 'darwin' ? 'MPS may exist on macOS' : false }, () => {
  const home = tempHome();
  assert.equal(cli(home, ['datasets', 'import', 'sample:mnist', '--limit', '100', '--json']).code, 0);
  const r = cli(home, ['tune', '--dataset', 'mnist', '--model', 'mlp', '--backend', 'torch-mps', '--python', '/usr/bin/python3', '--json']);
  assert.equal(r.code, 1, r.stderr);
  // A failed search prints the session, then the error, as two documents.
  const failed = JSON.parse(r.stdout.slice(r.stdout.indexOf('\n}\n') + 3)) as { error: string };
  assert.match(failed.error, /backend torch-mps is not available: torch-mps \(PyTorch, Apple MPS\): Apple MPS exists only on macOS/);
});
