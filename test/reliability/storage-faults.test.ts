// Storage faults: the disk filling up mid-run, a read-only data folder, and the database locked
// by another process. Each must give a clear message (a StoreError naming the file and what to
// do, or a failed run saying so), corrupt nothing (PRAGMA integrity_check), and leave the app
// able to open again — or refuse to open with that message, never with a stack trace.
//
// A full disk and a read-only folder are real: a small tmpfs mounted for the test (root only;
// elsewhere those tests are skipped, naming the part: test/support/parts.ts). The lock is another better-sqlite3 connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { AutoBatchService } from '../../src/main/service/service.js';
import { DATABASE_FILE, StoreError } from '../../src/main/store/index.js';
import { removeDir, tempDir, waitFor, within } from './helpers.js';
import { HostProcess } from './host-process.js';
import { missing } from '../support/parts.js';

const HOLD_LOCK = fileURLToPath(new URL('./fixtures/hold-lock.js', import.meta.url));
const CLI = fileURLToPath(new URL('../../../bin/autobatch.js', import.meta.url));

/** Mounts a tmpfs of `size` at a new folder; undefined (with the reason logged) where that is not allowed. */
function mountTmpfs(size: string): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const dir = tempDir('autobatch-tmpfs-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`# cannot mount a tmpfs: ${r.stderr.trim()}`);
    removeDir(dir);
    return undefined;
  }
  return dir;
}

function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir]);
  removeDir(dir);
}

/** A real full or read-only file system is a small tmpfs, which only root can mount. */
const NEEDS_ROOT = missing('root');

/** Fills the file system holding `dir` until it refuses (ENOSPC). */
function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler.bin');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  // Small writes too, so that not even a page is left.
  try {
    for (;;) writeSync(fd, Buffer.alloc(512, 1));
  } catch {
    // full
  }
  closeSync(fd);
  return file;
}

function integrity(home: string): string {
  const db = new Database(path.join(home, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

/** Runs the CLI; returns its exit code and output. */
function cli(home: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--home', home], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const config = { model: 'mlp', batchSize: 8, epochs: 1000, backend: 'cpu' } as const;

test(
  'disk full mid-run: the run fails saying so, the host lives on, nothing is corrupted, the app opens again',
  { skip: NEEDS_ROOT, timeout: 180_000 },
  async () => {
    const mnt = mountTmpfs('6m')!;
    const home = path.join(mnt, 'home');
    try {
      const setup = new AutoBatchService({ home });
      await setup.importDataset('sample:mnist', { name: 'mnist', limit: 300 });
      await setup.close();

      // The run's host is its own process, as the app would be: at the next start it is gone.
      const host = new HostProcess(home);
      const first = await host.waitLine((l) => l.type === 'metrics', 60_000, 'the first metrics');
      const filler = fillDisk(mnt);
      const failed = await host.waitLine((l) => l.type === 'status' && l.status !== 'running', 60_000, 'the run ending on a full disk');
      assert.equal(failed.status, 'failed', JSON.stringify(host.lines));
      assert.match(failed.error ?? '', /could not store .*: the disk holding .*autobatch\.db is full/);
      console.log(`# on a full disk the run ends: ${failed.error}`);

      // Importing on the full disk, in this process: a clear error, nothing left behind.
      const service = new AutoBatchService({ home });
      try {
        await assert.rejects(service.importDataset('sample:mnist', { name: 'again', limit: 300 }), (e: Error) => /ENOSPC|no space|is full/i.test(e.message));
        assert.deepEqual(
          readdirSync(path.join(home, 'datasets')).filter((n) => n.includes('.importing-')),
          [],
        );
      } catch (err) {
        // Or the service refuses to open at all, saying why.
        assert.ok(err instanceof StoreError && /autobatch\.db/.test(err.message), String(err));
      } finally {
        await service.close();
      }

      // The host did not crash: it closes on request.
      host.child.stdin.write('close\n');
      const { code } = await within(host.exit, 30_000, 'the host closing');
      assert.ok(code === 0 || code === 3, `host exit code ${code}: ${host.stderr.slice(-1000)}`);
      assert.ok(!/Uncaught|\n\s+at /.test(host.stderr), `no crash in the host: ${host.stderr.slice(-1000)}`);

      rmSync(filler);
      assert.equal(integrity(home), 'ok');
      const again = new AutoBatchService({ home });
      try {
        const after = again.getRun(first.runId!);
        assert.ok(['failed', 'interrupted'].includes(after.status), after.status);
        assert.ok(again.runSteps(first.runId!).length > 0, 'the steps stored before the disk filled are kept');
        const next = await within(
          again.startTraining({ dataset: 'mnist', config: { ...config, epochs: 1 }, maxSteps: 3 }).done,
          60_000,
          'a run after freeing space',
        );
        assert.equal(next.status, 'completed', next.error ?? '');
      } finally {
        await again.close();
      }
    } finally {
      unmount(mnt);
    }
  },
);

test('read-only data folder: a clear refusal from the service and the CLI, the data untouched', { skip: NEEDS_ROOT, timeout: 120_000 }, async () => {
  const mnt = mountTmpfs('16m')!;
  const home = path.join(mnt, 'home');
  try {
    const service = new AutoBatchService({ home });
    const ds = await service.importDataset('sample:mnist', { name: 'mnist', limit: 300 });
    const run = await service.startTraining({ dataset: ds.id, config: { ...config, epochs: 1 }, maxSteps: 3 }).done;
    assert.equal(run.status, 'completed');
    await service.close();
    const r0 = spawnSync('mount', ['-o', 'remount,ro', mnt]);
    assert.equal(r0.status, 0, 'remount read-only');

    assert.throws(
      () => new AutoBatchService({ home }),
      (e: unknown) =>
        e instanceof StoreError && ['readonly', 'io'].includes(e.code) && /autobatch\.db/.test(e.message) && /cannot|read-only|permission/i.test(e.message),
    );
    const r = cli(home, 'runs', 'list');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /autobatch\.db/);
    assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
    console.log(`# the CLI on a read-only folder says: ${r.stderr.trim()}`);
    const serve = cli(home, 'serve', '--port', '0');
    assert.equal(serve.status, 1, 'serve refuses to start');
    assert.match(serve.stderr, /read-only file system/);

    spawnSync('mount', ['-o', 'remount,rw', mnt]);
    assert.equal(integrity(home), 'ok');
    const again = new AutoBatchService({ home });
    try {
      assert.equal(again.getRun(run.id).status, 'completed');
    } finally {
      await again.close();
    }
  } finally {
    unmount(mnt);
  }
});

/** Another process takes the database's write lock for `ms`; resolves once it holds it. */
async function holdLock(home: string, ms: number): Promise<{ released: Promise<void> }> {
  const child = spawn(process.execPath, [HOLD_LOCK, path.join(home, DATABASE_FILE), String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  await within(
    (async () => {
      while (!out.includes('locked')) await new Promise((r) => setTimeout(r, 10));
    })(),
    30_000,
    'the other process taking the lock',
  );
  return { released: exited };
}

test(
  'database locked by another process: open refuses with "locked"; a run waits out a short lock and fails clearly on a long one',
  { timeout: 180_000 },
  async () => {
    const home = tempDir();
    try {
      const setup = new AutoBatchService({ home });
      const ds = await setup.importDataset('sample:mnist', { name: 'mnist', limit: 300 });
      await setup.close();

      // Another program holds the write lock while the app opens: after the 5 s busy timeout, a clear refusal.
      let lock = await holdLock(home, 8000);
      const t0 = Date.now();
      assert.throws(
        () => new AutoBatchService({ home }),
        (e: unknown) => e instanceof StoreError && e.code === 'locked' && /locked by another program/.test(e.message),
      );
      console.log(`# open refused as locked after ${Date.now() - t0} ms`);
      await lock.released;

      const service = new AutoBatchService({ home });
      try {
        // A lock shorter than the busy timeout (5 s): the run waits, loses nothing, completes.
        const reported: number[] = [];
        service.on('run-metrics', (e) => reported.push(...e.steps.map((s) => s.step)));
        const short = service.startTraining({ dataset: ds.id, config: { ...config, epochs: 1 }, maxSteps: 30 });
        await waitFor(() => reported.length > 0, 60_000, 'the first metrics');
        lock = await holdLock(home, 2000);
        await lock.released;
        const shortRun = await within(short.done, 60_000, 'the run under a short lock');
        assert.equal(shortRun.status, 'completed', shortRun.error ?? '');
        assert.deepEqual(
          service.runSteps(shortRun.id).map((s) => s.step),
          reported,
        );

        // A lock longer than that: the run fails saying the database is locked; the service lives.
        const statuses: { status: string; error?: string }[] = [];
        const long = service.startTraining({ dataset: ds.id, config });
        service.on('run-status', (e) => e.runId === long.runId && statuses.push(e));
        await waitFor(() => statuses.some((s) => s.status === 'running'), 60_000, 'the run starting');
        lock = await holdLock(home, 12_000);
        await waitFor(() => statuses.some((s) => s.status !== 'running'), 60_000, 'the run ending');
        const last = statuses.at(-1)!;
        assert.equal(last.status, 'failed', JSON.stringify(statuses));
        assert.match(last.error ?? '', /locked by another program/);
        console.log(`# a run under a long lock ends: ${last.error}`);
        await lock.released;
        await long.done.catch(() => undefined);
        // Once the lock is gone the service works on.
        const next = await within(
          service.startTraining({ dataset: ds.id, config: { ...config, epochs: 1 }, maxSteps: 3 }).done,
          60_000,
          'a run after the lock',
        );
        assert.equal(next.status, 'completed', next.error ?? '');
      } finally {
        await service.close();
      }
      assert.equal(integrity(home), 'ok');
    } finally {
      removeDir(home);
    }
  },
);
