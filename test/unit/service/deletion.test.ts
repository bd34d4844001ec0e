// Deleting through the service and the dispatcher: rows and files go together (a dataset's cache,
// its runs' folders), other datasets and the files a dataset was imported from are untouched,
// deletions are refused while a job uses what they would delete, a file that cannot be moved
// aside leaves everything as it was, and unknown ids are not found.
import { after, afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { WireResponse } from '../../../src/shared/api/index.js';
import { ApiDispatcher } from '../../../src/main/service/api-dispatch.js';
import { ConflictError } from '../../../src/main/service/errors.js';
import { filesOfPlan, isInside, sweepTrash, TRASH_PREFIX } from '../../../src/main/service/removal.js';
import { AutoBatchService } from '../../../src/main/service/service.js';
import type { TrainerProcess } from '../../../src/main/service/trainer-host.js';
import { openStore, StoreError, type Store } from '../../../src/main/store/index.js';
import type { TuningReport, TuningRequest } from '../../../src/shared/tuning-types.js';
import { missing } from '../../support/parts.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'autobatch-delete-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A trainer that never trains: it stays until stopped or killed, or exits at once with `exitAtOnce`. */
let exitAtOnce = false;
function fakeTrainer(): TrainerProcess {
  let exit: (code: number | null, signal: NodeJS.Signals | null) => void = () => {};
  if (exitAtOnce) setImmediate(() => exit(1, null));
  return {
    pid: 1_000_000,
    send: (msg) => {
      if (msg.type === 'stop') setImmediate(() => exit(0, null));
    },
    kill: (signal) => setImmediate(() => exit(null, signal ?? 'SIGTERM')),
    onMessage: () => {},
    onExit: (cb) => (exit = cb),
  };
}

let home: string;
let source: string;
let service: AutoBatchService;
let dispatcher: ApiDispatcher;
/** The same database on a connection of the test's own: fixtures are written and rows checked through it (the service's store is private). */
let store: Store;

beforeEach(() => {
  home = mkdtempSync(path.join(root, 'home-'));
  source = path.join(mkdtempSync(path.join(root, 'outside-')), 'table.csv');
  const rows = Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2 ? 'odd' : 'even'}`);
  writeFileSync(source, ['a,b,label', ...rows].join('\n') + '\n');
  exitAtOnce = false;
  service = new AutoBatchService({ home, spawn: fakeTrainer });
  dispatcher = new ApiDispatcher(service, { validateResults: true });
  store = openStore(home, { recoverInterrupted: false });
});
afterEach(async () => {
  store.close();
  dispatcher.close();
  await service.close();
});

const request: TuningRequest = {
  model: 'mlp',
  mode: 'quick',
  optimizer: 'adam',
  backend: 'cpu',
  baseBatchSize: 16,
  baseLearningRate: 1e-3,
  plannedEpochs: 1,
  seed: 1,
};
const report = {
  recommendation: {
    batchSize: 8,
    learningRate: 1e-3,
    warmupSteps: 0,
    expectedSamplesPerSecond: 100,
    memoryCeiling: 64,
    memoryBudgetBytes: 1e9,
    memoryHeadroom: 0.5,
    noiseScale: null,
    optimizer: 'adam',
  },
  reasons: ['because'],
  curves: [{ batchSize: 8, samplesPerSecond: 100 }],
  fits: { memory: null, time: null },
  saturationBatch: null,
  scaleOut: null,
  searchSeconds: 1,
} satisfies TuningReport;
const config = {
  model: 'mlp' as const,
  batchSize: 8,
  epochs: 1,
  learningRate: 1e-3,
  optimizer: 'adam' as const,
  momentum: 0.9,
  warmupSteps: 0,
  backend: 'cpu' as const,
  seed: 1,
};
const step = (n: number) => ({ step: n, epoch: 1, time: n, loss: 1, accuracy: 0.5, samplesPerSecond: 8, stepMs: 1, memoryBytes: 0, learningRate: 1e-3 });

/** A completed run as the service leaves one: metrics, a model folder with files, evaluation.json. */
function completedRun(datasetId: number, tuningSessionId?: number): { id: number; dir: string } {
  const run = store.runs.create({ datasetId, config, ...(tuningSessionId !== undefined ? { tuningSessionId } : {}) });
  store.metrics.appendSteps(run.id, [step(1), step(2), step(3)]);
  const dir = path.join(store.paths.artifactsDir, `run-${run.id}`);
  mkdirSync(path.join(dir, 'model'), { recursive: true });
  writeFileSync(path.join(dir, 'model', 'model.json'), '{"m":1}');
  writeFileSync(path.join(dir, 'model', 'weights.bin'), Buffer.alloc(1000 + run.id));
  writeFileSync(path.join(dir, 'evaluation.json'), '{}');
  store.artifacts.add({ runId: run.id, kind: 'model', path: path.join(dir, 'model'), bytes: 1007 + run.id });
  store.runs.finish(run.id, 'completed');
  return { id: run.id, dir };
}

function completedSession(datasetId: number): number {
  const s = store.tuning.create(datasetId, request);
  store.tuning.addTrial(s.id, { seq: 1, kind: 'throughput', batchSize: 8, learningRate: null, status: 'ok', result: {}, cause: null, seconds: 0.1 });
  store.tuning.addTrial(s.id, { seq: 2, kind: 'throughput', batchSize: 16, learningRate: null, status: 'ok', result: {}, cause: null, seconds: 0.1 });
  store.tuning.finish(s.id, 'completed', { report, searchSeconds: 1 });
  return s.id;
}

/** Every file and folder under the data folder (the database aside), with sizes. */
function tree(): string[] {
  return (readdirSync(home, { recursive: true }) as string[])
    .filter((f) => !f.startsWith('autobatch.db'))
    .map((f) => {
      const st = statSync(path.join(home, f));
      return st.isDirectory() ? `${f}/` : `${f} ${st.size}`;
    })
    .sort();
}

function du(dir: string): number {
  return (readdirSync(dir, { recursive: true }) as string[]).reduce((n, f) => {
    const st = statSync(path.join(dir, f));
    return n + (st.isFile() ? st.size : 0);
  }, 0);
}

function rowCounts(): Record<string, number> {
  const db = new Database(store.paths.database, { readonly: true });
  try {
    return Object.fromEntries(
      ['datasets', 'runs', 'metrics', 'artifacts', 'tuning_sessions', 'tuning_trials'].map((t) => [
        t,
        (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n,
      ]),
    );
  } finally {
    db.close();
  }
}

async function call(method: string, params: unknown): Promise<WireResponse> {
  return dispatcher.dispatch({ id: 1, method, params });
}

async function ok<T = Record<string, unknown>>(method: string, params: unknown): Promise<T> {
  const res = await call(method, params);
  assert.ok(res.ok, `${method} ${JSON.stringify(params)}: ${res.ok ? '' : res.error.message}`);
  return res.result as T;
}

async function refused(method: string, params: unknown): Promise<{ code: string; field?: string; message: string }> {
  const res = await call(method, params);
  assert.equal(res.ok, false, `${method} ${JSON.stringify(params)} was accepted`);
  return (res as Extract<WireResponse, { ok: false }>).error;
}

/** Two datasets with runs and sessions; a run of `b` trained with a session of `a`. */
async function fixture() {
  const a = await service.importDataset(source, { name: 'alpha' });
  const b = await service.importDataset(source, { name: 'beta' });
  const aSession = completedSession(a.id);
  const aRuns = [completedRun(a.id), completedRun(a.id, aSession)];
  const bRun = completedRun(b.id);
  const crossRun = completedRun(b.id, aSession);
  return { a, b, aSession, aRuns, bRun, crossRun };
}

test('a dry run says what a dataset deletion takes, bytes included, and changes nothing', async () => {
  const f = await fixture();
  const rows = rowCounts();
  const files = tree();
  const d = await ok('deleteDataset', { dataset: 'alpha', dryRun: true });
  assert.deepEqual(d, {
    dryRun: true,
    inUse: null,
    datasets: 1,
    runs: 2,
    tunings: 1,
    runIds: f.aRuns.map((r) => r.id),
    sessionIds: [f.aSession],
    metricRows: store.metrics.count(f.aRuns[0]!.id) * 2,
    trials: 2,
    artifacts: 2,
    unlinkedRunIds: [f.crossRun.id],
    bytes: du(f.a.cacheDir) + du(f.aRuns[0]!.dir) + du(f.aRuns[1]!.dir),
    leftOver: [],
  });
  assert.ok((d.metricRows as number) > 0);
  assert.deepEqual(rowCounts(), rows);
  assert.deepEqual(tree(), files);
});

test('deleting a dataset removes its rows, its cache and its runs’ folders; the other dataset and the imported file stay', async () => {
  const f = await fixture();
  const bFiles = tree().filter((p) => p.startsWith(path.relative(home, f.b.cacheDir)) || p.startsWith(path.relative(home, f.bRun.dir)));
  const bMetrics = store.metrics.count(f.bRun.id);
  const d = await ok('deleteDataset', { dataset: f.a.id });
  assert.equal(d.dryRun, false);
  assert.equal(d.runs, 2);
  assert.equal(d.tunings, 1);
  assert.ok((d.bytes as number) > 0);
  assert.deepEqual(d.leftOver, []);

  assert.ok(!existsSync(f.a.cacheDir), 'the cache is gone');
  for (const r of f.aRuns) assert.ok(!existsSync(r.dir), `run ${r.id}'s folder is gone`);
  assert.equal(store.datasets.get(f.a.id), undefined);
  for (const r of f.aRuns) assert.equal((await refused('getRun', { runId: r.id })).code, 'not-found');
  assert.equal((await refused('getTuning', { sessionId: f.aSession })).code, 'not-found');
  // Nothing half-deleted is left lying around.
  assert.deepEqual(
    tree().filter((p) => p.includes(TRASH_PREFIX)),
    [],
  );

  // The other dataset is whole, and the file alpha was imported from is still there.
  assert.ok(existsSync(source));
  for (const p of bFiles) assert.ok(tree().includes(p), `${p} is kept`);
  assert.equal(store.metrics.count(f.bRun.id), bMetrics);
  assert.equal((await ok<{ name: string }>('getDataset', { dataset: 'beta' })).name, 'beta');
  // The run of beta that trained with alpha's session is kept, unlinked, and its page still opens.
  const cross = await ok<{ run: { tuningSessionId: number | null; status: string }; tuning: unknown; hasModel: boolean }>('getRun', { runId: f.crossRun.id });
  assert.equal(cross.run.tuningSessionId, null);
  assert.equal(cross.tuning, null);
  assert.equal(cross.hasModel, true);
});

test('deleting a run removes its metrics, artifacts and folder only', async () => {
  const f = await fixture();
  const [gone, kept] = f.aRuns as [{ id: number; dir: string }, { id: number; dir: string }];
  const bytes = du(gone.dir);
  const d = await ok('deleteRun', { runId: gone.id });
  assert.deepEqual(
    { runs: d.runs, datasets: d.datasets, tunings: d.tunings, runIds: d.runIds, artifacts: d.artifacts, metricRows: d.metricRows, bytes: d.bytes },
    { runs: 1, datasets: 0, tunings: 0, runIds: [gone.id], artifacts: 1, metricRows: d.metricRows, bytes },
  );
  assert.ok((d.metricRows as number) > 0);
  assert.ok(!existsSync(gone.dir));
  assert.equal(store.metrics.count(gone.id), 0);
  assert.deepEqual(store.artifacts.listForRun(gone.id), []);
  assert.ok(existsSync(kept.dir));
  assert.ok(store.metrics.count(kept.id) > 0);
  assert.ok(existsSync(f.a.cacheDir));
  assert.ok(store.tuning.get(f.aSession));
});

test('deleting a tuning session keeps the runs trained with it; their pages still open', async () => {
  const f = await fixture();
  const files = tree();
  const d = await ok('deleteTuning', { sessionId: f.aSession });
  assert.deepEqual(
    { tunings: d.tunings, runs: d.runs, trials: d.trials, bytes: d.bytes, unlinked: d.unlinkedRunIds },
    { tunings: 1, runs: 0, trials: 2, bytes: 0, unlinked: [f.aRuns[1]!.id, f.crossRun.id] },
  );
  assert.deepEqual(tree(), files, 'a tuning session has no files');
  for (const r of [f.aRuns[1]!, f.crossRun]) {
    const detail = await ok<{ run: { tuningSessionId: number | null }; tuning: unknown; metricCount: number }>('getRun', { runId: r.id });
    assert.equal(detail.run.tuningSessionId, null);
    assert.equal(detail.tuning, null);
    assert.ok(detail.metricCount > 0);
  }
});

test('unknown ids are not found, naming the field; nothing changes', async () => {
  await fixture();
  const rows = rowCounts();
  const files = tree();
  for (const [method, params, field] of [
    ['deleteDataset', { dataset: 'no such dataset' }, 'dataset'],
    ['deleteDataset', { dataset: 999, dryRun: true }, 'dataset'],
    ['deleteRun', { runId: 999 }, 'runId'],
    ['deleteTuning', { sessionId: 999 }, 'sessionId'],
  ] as const) {
    const error = await refused(method, params);
    assert.equal(error.code, 'not-found', `${method}: ${error.message}`);
    assert.equal(error.field, field);
    assert.match(error.message, new RegExp(`^${field}: no `));
  }
  assert.deepEqual(rowCounts(), rows);
  assert.deepEqual(tree(), files);
});

test('refused while a run trains: the run, its dataset and the tuning session it trains with', async () => {
  const f = await fixture();
  const { runId, done } = service.startTraining({ fromTuning: f.aSession, dataset: '', config: { epochs: 1 } });
  const rows = rowCounts();
  const files = tree();
  const expect = [
    ['deleteRun', { runId }, 'runId', `run ${runId} is queued; stop it first`],
    ['deleteDataset', { dataset: 'alpha' }, 'dataset', `run ${runId} is waiting to train on it; stop it first`],
    ['deleteTuning', { sessionId: f.aSession }, 'sessionId', `run ${runId} is waiting to train with its recommendation; stop it first`],
  ] as const;
  for (const [method, params, field, message] of expect) {
    const error = await refused(method, params);
    assert.deepEqual(error, { code: 'conflict', field, message: `${field}: ${message}` });
    // A dry run says the same without refusing.
    assert.equal((await ok(method, { ...params, dryRun: true })).inUse, message);
  }
  // Beta is not in use.
  assert.equal((await ok('deleteDataset', { dataset: 'beta', dryRun: true })).inUse, null);
  assert.deepEqual(rowCounts(), rows);
  assert.deepEqual(tree(), files);

  service.stopRun(runId);
  assert.equal((await done).status, 'stopped');
  const d = await ok('deleteDataset', { dataset: 'alpha' });
  assert.deepEqual(d.runIds, [...f.aRuns.map((r) => r.id), runId]);
  assert.ok(!existsSync(path.join(store.paths.artifactsDir, `run-${runId}`)));
});

test('refused while a search runs on the dataset or is the session deleted', async () => {
  exitAtOnce = true; // the search fails at its first probe, but only after the checks below
  const a = await service.importDataset(source, { name: 'alpha' });
  const { sessionId, done } = service.startTuning({ dataset: a.id, model: 'mlp', backend: 'cpu' });
  // Synchronously, while the search is running.
  const tuning = service.deleteTuning(sessionId);
  const dataset = service.deleteDataset('alpha');
  await assert.rejects(
    tuning,
    (e: unknown) => e instanceof ConflictError && e.field === 'sessionId' && /tuning session \d+ is still searching; stop it first/.test(e.message),
  );
  await assert.rejects(
    dataset,
    (e: unknown) => e instanceof ConflictError && e.field === 'dataset' && /tuning session \d+ is searching on it; stop it first/.test(e.message),
  );
  await done;
  assert.equal((await service.deleteDataset('alpha')).tunings, 1);
});

test('a run another live process is training blocks the deletion and is named with its pid', async () => {
  const f = await fixture();
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  try {
    const db = new Database(store.paths.database);
    db.prepare("UPDATE runs SET status = 'running', owner_pid = ?, owner_host = ? WHERE id = ?").run(other.pid, os.hostname(), f.bRun.id);
    db.close();
    const error = await refused('deleteDataset', { dataset: 'beta' });
    assert.equal(error.code, 'conflict');
    assert.equal(error.message, `dataset: run ${f.bRun.id} is training on it (in another AutoBatch process, pid ${other.pid}); stop it first`);
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
  }
  // Its process is gone: the row is a leftover, and the deletion goes ahead.
  assert.equal((await ok('deleteDataset', { dataset: 'beta' })).runs, 2);
});

test('a file that cannot be moved aside leaves every row and file as it was', async () => {
  const f = await fixture();
  // An artifact whose name is too long to take the trash prefix: its move fails after the
  // dataset's cache and the first run folders have been moved.
  const long = path.join(store.paths.artifactsDir, 'x'.repeat(250));
  writeFileSync(long, 'model');
  store.artifacts.add({ runId: f.aRuns[1]!.id, kind: 'model', path: long, bytes: 5 });
  const rows = rowCounts();
  const files = tree();
  await assert.rejects(
    service.deleteDataset('alpha'),
    (e: unknown) => e instanceof StoreError && /could not delete .*x{250}.*; nothing was deleted/.test(e.message),
  );
  assert.deepEqual(rowCounts(), rows);
  assert.deepEqual(tree(), files, 'the folders moved aside are back');
  const error = await refused('deleteDataset', { dataset: 'alpha' });
  assert.equal(error.code, 'internal');
  assert.match(error.message, /nothing was deleted/);
});

test('only paths inside the data folder are removed, whatever a row says', async () => {
  const f = await fixture();
  // A damaged row pointing the cache at the folder the CSV came from.
  const db = new Database(store.paths.database);
  db.prepare('UPDATE datasets SET cache_dir = ? WHERE id = ?').run(path.dirname(source), f.a.id);
  db.prepare('UPDATE artifacts SET path = ? WHERE run_id = ?').run(path.join(path.dirname(source), 'model'), f.aRuns[0]!.id);
  db.close();
  const plan = store.removal.plan({ kind: 'dataset', id: f.a.id })!;
  assert.deepEqual(
    filesOfPlan(plan, store.paths),
    f.aRuns.map((r) => r.dir),
  );
  await ok('deleteDataset', { dataset: 'alpha' });
  assert.ok(existsSync(source), 'the imported file is kept');
  assert.ok(existsSync(f.a.cacheDir), 'the real cache, no row points at any more, is left');

  assert.ok(isInside('/data/datasets/a', '/data/datasets'));
  assert.ok(!isInside('/data/datasets', '/data/datasets'));
  assert.ok(!isInside('/data/datasets/../x', '/data/datasets'));
  assert.ok(!isInside('/data/datasets-2/x', '/data/datasets'));
  assert.ok(isInside('/data/datasets/..a', '/data/datasets'));
});

test('leftovers of failed removals are swept at the next start, unless a live process is removing them', async () => {
  const { datasetsDir, artifactsDir } = store.paths;
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  try {
    const dead = path.join(datasetsDir, `${TRASH_PREFIX}999999999-abcd1234-mnist-1`);
    const mine = path.join(artifactsDir, `${TRASH_PREFIX}${process.pid}-abcd1234-run-3`);
    const busy = path.join(artifactsDir, `${TRASH_PREFIX}${other.pid}-abcd1234-run-4`);
    const unrelated = path.join(datasetsDir, '.mnist-1.importing-x');
    for (const p of [dead, mine, busy, unrelated]) mkdirSync(path.join(p, 'inner'), { recursive: true });
    assert.deepEqual(sweepTrash([datasetsDir, artifactsDir]).sort(), [dead, mine].sort());
    assert.ok(existsSync(busy) && existsSync(unrelated));
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
  }
});

/**
 * Makes `dir` impossible to remove for a while: a folder without write permission stops anyone
 * but root; root is stopped by a file system mounted on it (a mount point cannot be removed).
 * Returns the function that undoes it wherever the folder has moved to.
 */
function lockFolder(dir: string): (movedTo: string) => void {
  if (!asRoot) {
    chmodSync(dir, 0o500);
    return (at) => chmodSync(at, 0o700);
  }
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `mount: ${r.stderr}`);
  return (at) => assert.equal(spawnSync('umount', [at]).status, 0, `umount ${at}`);
}
const asRoot = process.getuid?.() === 0;

test(
  'files that cannot be removed after the rows are deleted are reported, not pointed at',
  // Root removes anything but a mount point, which only root can make: that part is needed then.
  { skip: asRoot ? missing('root') : false },
  async () => {
    const f = await fixture();
    const locked = path.join(f.aRuns[0]!.dir, 'locked');
    mkdirSync(locked);
    writeFileSync(path.join(locked, 'f'), 'x');
    const unlock = lockFolder(locked);
    let unlocked = false;
    try {
      const d = await ok<{ leftOver: string[] }>('deleteRun', { runId: f.aRuns[0]!.id });
      assert.equal(d.leftOver.length, 1);
      assert.ok(d.leftOver[0]!.includes(TRASH_PREFIX));
      assert.equal(store.runs.get(f.aRuns[0]!.id), undefined);
      unlock(path.join(d.leftOver[0]!, 'locked'));
      unlocked = true;
    } finally {
      if (!unlocked && existsSync(locked)) unlock(locked);
    }
  },
);
