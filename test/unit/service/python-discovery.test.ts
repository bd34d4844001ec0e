// Finding the Python for the torch rungs: version comparison, the order candidates are tried in,
// and the reason each one passed over gets — against small shell scripts that print what
// environment.py would (or misbehave as a broken interpreter would), and the real system Python.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createEnvironmentProbe,
  findPython,
  majorMinor,
  MIN_TORCH,
  parseEnvironment,
  pythonCandidates,
  pythonPackageRoot,
  versionAtLeast,
  type ProbeResult,
} from '../../../src/main/service/python-discovery.js';
import { missing } from '../../support/parts.js';

const skipOnWindows = process.platform === 'win32' ? 'shell-script interpreters' : false;

function environment(python: string, torch: string | null, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    python,
    executable: '/fake/python',
    torch,
    torchError: torch ? null : "ModuleNotFoundError: No module named 'torch'",
    cuda: { available: false, device: null, reason: 'this torch is built without CUDA (a CPU-only build)' },
    mps: { available: false, reason: "MPS is Apple's GPU API, available on macOS only" },
    cpuThreads: torch ? 2 : null,
    ...extra,
  });
}

/** A fake interpreter: a shell script whose body does what the test needs. */
function fakePython(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}
const printing = (json: string) => `cat <<'JSON'\n${json}\nJSON`;

describe('versions compare by (major, minor)', () => {
  it('reads the first two numbers and ignores the rest', () => {
    assert.deepEqual(majorMinor('1.13.0a0'), [1, 13]);
    assert.deepEqual(majorMinor('2.1.0+cu121'), [2, 1]);
    assert.deepEqual(majorMinor('3.8'), [3, 8]);
    assert.equal(majorMinor('nightly'), null);
  });
  it('compares against a minimum', () => {
    assert.equal(versionAtLeast('1.13.0a0', MIN_TORCH['torch-cpu']), true);
    assert.equal(versionAtLeast('1.12.1', MIN_TORCH['torch-cpu']), false);
    assert.equal(versionAtLeast('1.13.1', MIN_TORCH['torch-mps']), false);
    assert.equal(versionAtLeast('2.0.0', MIN_TORCH['torch-mps']), true);
    assert.equal(versionAtLeast('10.0', [3, 8]), true, 'numbers, not strings');
    assert.equal(versionAtLeast('3.10.4', [3, 8]), true, '3.10 is after 3.8');
    assert.equal(versionAtLeast('3.7.16', [3, 8]), false);
    assert.equal(versionAtLeast('garbage', [1, 0]), false);
  });
});

describe('candidates', { skip: skipOnWindows }, () => {
  it('are --python, AUTOBATCH_PYTHON, settings, python3 and python on PATH, then /usr/bin/python3, each once', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'abs-py-'));
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const flag = fakePython(dir, 'flag-python', 'exit 0');
    const env = fakePython(dir, 'env-python', 'exit 0');
    const settings = fakePython(dir, 'settings-python', 'exit 0');
    fakePython(bin, 'python3', 'exit 0');
    // `python` on PATH is the same file as AUTOBATCH_PYTHON: tried once, at its first place.
    symlinkSync(env, path.join(bin, 'python'));
    const list = pythonCandidates({ flag, env, settings, pathEnv: bin });
    const order = list.map((c) => `${c.source}:${c.command}`);
    assert.deepEqual(order.slice(0, 4), [`--python:${flag}`, `AUTOBATCH_PYTHON:${env}`, `settings:${settings}`, 'PATH:python3']);
    assert.ok(!order.includes('PATH:python'), 'the symlink to AUTOBATCH_PYTHON is not tried again');
    assert.equal(list.at(-1)!.source, 'system');
    assert.equal(list.at(-1)!.command, '/usr/bin/python3');
    assert.equal(list[3]!.resolved, path.join(bin, 'python3'));
  });

  it('keep a missing one, unresolved, so its reason can be listed', () => {
    const list = pythonCandidates({ flag: '/no/such/python', pathEnv: '/no/such/dir' });
    assert.deepEqual(
      list.slice(0, 3).map((c) => [c.source, c.resolved]),
      [
        ['--python', null],
        ['PATH', null],
        ['PATH', null],
      ],
    );
  });
});

describe('choosing an interpreter', { skip: skipOnWindows }, () => {
  it('takes the first with torch at the minimum and lists why each before it was passed over', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'abs-py-'));
    const probe = createEnvironmentProbe({ timeoutMs: 1500 });
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    fakePython(bin, 'python3', printing(environment('3.11.7', null)));
    fakePython(bin, 'python', printing(environment('3.6.9', '1.13.1')));
    const settingsPy = fakePython(dir, 'old-torch', printing(environment('3.10.1', '1.12.1')));
    const crash = fakePython(dir, 'crash', 'echo "Fatal Python error: init_import_site" >&2; exit 3');
    const chatty = fakePython(dir, 'chatty', 'echo "hello from sitecustomize"');
    const hang = fakePython(dir, 'hang', 'exec sleep 20');
    const good = fakePython(dir, 'good', `echo "a library printed this first"\n${printing(environment('3.12.1', '2.3.0'))}`);
    const finding = async (search: Parameters<typeof pythonCandidates>[0]) =>
      (await findPython(pythonCandidates({ pathEnv: bin, ...search }), MIN_TORCH['torch-cpu'], probe, new Map())).finding;

    const f1 = await finding({ flag: crash, env: chatty, settings: settingsPy });
    const reasons = f1.candidates.map((c) => [c.source, c.rejected]);
    assert.deepEqual(reasons.slice(0, 5), [
      ['--python', 'exited with code 3: Fatal Python error: init_import_site'],
      ['AUTOBATCH_PYTHON', 'printed no environment report (its output ends: hello from sitecustomize)'],
      ['settings', 'torch 1.12.1 is older than 1.13'],
      ['PATH', "torch does not import: ModuleNotFoundError: No module named 'torch'"],
      ['PATH', 'Python 3.6.9 is older than 3.8'],
    ]);
    assert.equal(f1.candidates[2]!.torchVersion, '1.12.1');
    assert.equal(f1.candidates[3]!.pythonVersion, '3.11.7');

    const f2 = await finding({ flag: hang, env: good });
    assert.match(f2.candidates[0]!.rejected!, /did not answer within 2 s/);
    assert.equal(f2.executable, good, 'the first usable one wins, a stray print before its answer does not matter');
    assert.equal(f2.torchVersion, '2.3.0');
    assert.equal(f2.candidates[1]!.rejected, null);
    assert.equal(f2.candidates.length, 2, 'nothing after the winner is asked');

    const f3 = await finding({ flag: '/no/such/python' });
    assert.equal(f3.candidates[0]!.rejected, 'not found, or not an executable file');
  });

  it("applies the rung's own minimum: torch 1.13 serves torch-cpu, not torch-mps", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'abs-py-'));
    const py113 = fakePython(dir, 'py113', printing(environment('3.11.2', '1.13.0a0')));
    const py21 = fakePython(dir, 'py21', printing(environment('3.11.2', '2.1.0')));
    const calls: string[] = [];
    const real = createEnvironmentProbe();
    const probe = (exe: string): Promise<ProbeResult> => {
      calls.push(path.basename(exe));
      return real(exe);
    };
    const cache = new Map<string, ProbeResult>();
    const candidates = pythonCandidates({ flag: py113, env: py21, pathEnv: '/no/such/dir' });
    const cpu = await findPython(candidates, MIN_TORCH['torch-cpu'], probe, cache);
    assert.equal(cpu.finding.executable, py113);
    const mps = await findPython(candidates, MIN_TORCH['torch-mps'], probe, cache);
    assert.equal(mps.finding.executable, py21);
    assert.equal(mps.finding.candidates[0]!.rejected, 'torch 1.13.0a0 is older than 2.0');
    assert.deepEqual(calls, ['py113', 'py21'], 'each interpreter is asked once');
  });

  it('reads only a well-formed environment line', () => {
    assert.equal(parseEnvironment('{"python": "3.11"}\n'), null);
    assert.equal(parseEnvironment('not json\n'), null);
    assert.equal(parseEnvironment(`noise\n${environment('3.11.2', '2.0.1')}\n`)?.torch, '2.0.1');
  });
});

describe('the real environment probe', () => {
  it('finds the package it runs', () => {
    assert.ok(pythonPackageRoot().endsWith(`${path.sep}python`));
  });

  it("reports this machine's Python and torch", { skip: missing('torch') }, async () => {
    const { finding, environment: env } = await findPython(
      pythonCandidates({ env: process.env.AUTOBATCH_PYTHON }),
      MIN_TORCH['torch-cpu'],
      createEnvironmentProbe(),
      new Map(),
    );
    assert.ok(finding.executable, `no interpreter chosen: ${JSON.stringify(finding.candidates)}`);
    assert.ok(env && versionAtLeast(env.torch!, [1, 13]) && versionAtLeast(env.python, [3, 8]));
    assert.equal(typeof env.cuda.available, 'boolean');
    assert.ok(env.cuda.available || (env.cuda.reason ?? '').length > 0, 'an unavailable CUDA says why');
    assert.ok(env.cpuThreads !== null && env.cpuThreads >= 1);
  });
});
