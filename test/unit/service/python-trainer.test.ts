// The Python trainer's host side (python-trainer.ts) prepares a probe session as it prepares a
// run: 'start-probes' reaches Python only after the prep entry built the net, carrying `prepared`
// and the CPU threads; a failed preparation fails the session with its cause. A shell script
// stands in for Python (it keeps the first line it is sent), and a fake entry runner for the prep.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPythonSpawner } from '../../../src/main/service/python-trainer.js';
import type { EntryRunner } from '../../../src/main/service/backend-detect.js';
import { TORCH_PREP_MARKER } from '../../../src/main/engine/trainer/torch-prep-protocol.js';
import { probeHostMessageSchema, type ProbeSession } from '../../../src/shared/probe-protocol.js';
import { skipOnWindows } from './fake-python.js';

const session: ProbeSession = { kind: 'probe-session', datasetDir: '/data/mnist', model: 'small', optimizer: 'adam', backend: 'torch-cpu', seed: 4 };
const prepared = { modelDir: '/tmp/prep/model', groups: [{ layers: ['conv2d_1', 'dense_1'], rateFactor: 1 }] };

/** The fake Pythons' folders, removed when the file's tests end. */
const fakeDirs: string[] = [];
after(() => {
  for (const dir of fakeDirs) rmSync(dir, { recursive: true, force: true });
});

/** A "python" that writes the first line it reads to `<dir>/first-line` and exits. */
function fakePython(): { python: string; firstLine: () => unknown } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'abs-fake-python-'));
  fakeDirs.push(dir);
  const python = path.join(dir, 'python3');
  writeFileSync(python, `#!/bin/sh\nhead -n 1 > '${dir}/first-line'\n`);
  chmodSync(python, 0o755);
  return { python, firstLine: () => JSON.parse(readFileSync(path.join(dir, 'first-line'), 'utf8')) as unknown };
}

/** A prep entry that answers `outcome`, keeping what it was asked to prepare. */
function fakePrep(outcome: unknown): { run: EntryRunner; asked: unknown[] } {
  const asked: unknown[] = [];
  const run: EntryRunner = async (_entry, [file]) => {
    asked.push(JSON.parse(readFileSync(file!, 'utf8')));
    return { stdout: `some tfjs chatter\n${TORCH_PREP_MARKER}${JSON.stringify(outcome)}\n`, stderr: '', code: 0 };
  };
  return { run, asked };
}

describe('the Python trainer process, for a probe session', { skip: skipOnWindows }, () => {
  it("sends 'start-probes' with the prepared net and the threads, after preparing the session's net", async () => {
    const fake = fakePython();
    const prep = fakePrep({ ok: true, prepared });
    const proc = createPythonSpawner({ python: fake.python, entryRunner: prep.run, threads: 3 })();
    const exited = new Promise<number | null>((resolve) => proc.onExit((code) => resolve(code)));
    proc.send({ type: 'start-probes', session: { ...session, memoryCapBytes: 5_000_000 } });
    assert.equal(await exited, 0);
    assert.deepEqual(prep.asked, [{ ...session, memoryCapBytes: 5_000_000 }], 'the prep entry got the session as it was sent');
    const sent = probeHostMessageSchema.parse(fake.firstLine());
    assert.deepEqual(sent, { type: 'start-probes', session: { ...session, memoryCapBytes: 5_000_000, prepared, threads: 3 } });
  });

  it("keeps the session's own thread count", async () => {
    const fake = fakePython();
    const proc = createPythonSpawner({ python: fake.python, entryRunner: fakePrep({ ok: true, prepared }).run, threads: 3 })();
    const exited = new Promise((resolve) => proc.onExit(resolve));
    proc.send({ type: 'start-probes', session: { ...session, threads: 1 } });
    await exited;
    assert.equal((probeHostMessageSchema.parse(fake.firstLine()) as { session: ProbeSession }).session.threads, 1);
  });

  it('a failed preparation fails the session with its cause, and nothing reaches Python', async () => {
    const fake = fakePython();
    const proc = createPythonSpawner({
      python: fake.python,
      entryRunner: fakePrep({ ok: false, cause: 'dataset', message: 'could not load the dataset: gone' }).run,
    })();
    const heard: unknown[] = [];
    proc.onMessage((m) => heard.push(m));
    const exited = new Promise((resolve) => proc.onExit((_code, signal) => resolve(signal)));
    proc.send({ type: 'start-probes', session });
    assert.equal(await exited, 'SIGTERM');
    assert.deepEqual(heard, [{ type: 'failed', cause: 'dataset', message: 'could not load the dataset: gone' }]);
  });
});
