// Bringing a distributed run back, through the API (every result checked against the contract)
// and the CLI: a recipe's metrics file becomes a run of its own on a real dataset of this app,
// with its metrics and provenance, reviewed and compared like any run; the same file twice, and
// every bad or unfinished file, is refused and leaves the stored rows exactly as they were.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ApiError } from '../../src/shared/api/index.js';
import type { RecipeStartLine } from '../../src/shared/recipe-metrics.js';
import { ApiDispatcher } from '../../src/main/service/api-dispatch.js';
import { createDirectApi } from '../../src/main/service/api-direct.js';
import { PARTIAL_RUN_ERROR } from '../../src/main/service/run-import.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { openStore, type Store } from '../../src/main/store/index.js';
import { tempHome } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = path.join(root, 'test', 'fixtures', 'recipe-metrics');
const bin = path.join(root, 'bin', 'autobatch.js');
const fixture = (name: string) => path.join(FIXTURES, name);

interface Case {
  file: string;
  format: 'valid' | 'invalid' | 'unfinished';
  line?: number;
  field?: string | null;
  import?: { line: number; field: string; says: string };
}
const CASES = (JSON.parse(readFileSync(fixture('cases.json'), 'utf8')) as { cases: Case[] }).cases;

const home = tempHome('autobatch-run-import-');
const service = new AutoBatchService({ home });
const dispatcher = new ApiDispatcher(service, { validateResults: true });
const api = createDirectApi(dispatcher);
/** The same database on a connection of the test's own: the origin run is written and rows compared through it. */
let store: Store;
/** A plain connection for reading rows as stored. */
let db: Database.Database;
let datasetId: number;
let contentHash: string;
let tuningId: number;

before(async () => {
  const csv = path.join(home, 'outside', 'table.csv');
  mkdirSync(path.dirname(csv), { recursive: true });
  const rows = Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2 ? 'odd' : 'even'}`);
  writeFileSync(csv, ['a,b,label', ...rows].join('\n') + '\n');
  const ds = await api.importDataset({ source: csv, name: 'table', validationFraction: 0.2 });
  // What the fixtures were written for (cases.json).
  assert.deepEqual([ds.trainCount, ds.validationCount, ds.classes.map((c) => c.name)], [32, 8, ['even', 'odd']]);
  datasetId = ds.id;
  store = openStore(home, { recoverInterrupted: false });
  db = new Database(path.join(home, 'autobatch.db'), { readonly: true });
  contentHash = store.datasets.get(datasetId)!.contentHash!;
  const config = {
    model: 'mlp' as const,
    batchSize: 8,
    epochs: 2,
    learningRate: 1e-3,
    optimizer: 'adam' as const,
    momentum: 0.9,
    warmupSteps: 0,
    backend: 'cpu' as const,
    seed: 1,
  };
  const origin = store.runs.create({ datasetId, config });
  assert.equal(origin.id, 1); // the fixtures' origin
  store.runs.finish(origin.id, 'completed');
  store.metrics.appendEpochs(origin.id, [{ epoch: 1, step: 4, time: 1, valLoss: 0.7, valAccuracy: 0.6, trainLoss: 0.7, trainAccuracy: 0.6 }]);
  const request = {
    model: 'mlp' as const,
    mode: 'quick' as const,
    optimizer: 'adam' as const,
    backend: 'cpu' as const,
    baseBatchSize: 8,
    baseLearningRate: 1e-3,
    plannedEpochs: 2,
    seed: 1,
  };
  tuningId = store.tuning.create(datasetId, request).id;
  store.tuning.finish(tuningId, 'failed', { error: 'stopped by the test' });
});
after(async () => {
  db.close();
  store.close();
  api.close();
  dispatcher.close();
  await service.close();
});

/** Every stored row of the tables an import writes, for before/after comparisons. */
function snapshot(): string {
  return JSON.stringify(['runs', 'metrics', 'run_imports', 'datasets', 'tuning_sessions'].map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all()));
}

async function refused(params: { path: string; partial?: boolean }): Promise<ApiError> {
  try {
    await api.importRunMetrics(params);
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    return err;
  }
  return assert.fail(`${params.path} should be refused`);
}

/** A copy of the valid file whose start line is changed by `edit`, in a folder of its own as the recipe's --out. */
function variant(name: string, edit: (start: RecipeStartLine) => void): string {
  const [start, ...rest] = readFileSync(fixture('valid-complete.jsonl'), 'utf8').trimEnd().split('\n');
  const s = JSON.parse(start!) as RecipeStartLine;
  edit(s);
  const dir = path.join(home, 'outside', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'metrics.jsonl'), [JSON.stringify(s), ...rest].join('\n') + '\n');
  return dir;
}

test('a valid file becomes a run of its own: metrics, provenance, review and compare like any run', async () => {
  const run = await api.importRunMetrics({ path: fixture('valid-complete.jsonl') });
  assert.equal(run.status, 'completed');
  assert.equal(run.datasetId, datasetId);
  assert.equal(run.backend, 'pytorch-ddp');
  assert.deepEqual([run.config.batchSize, run.config.epochs, run.config.learningRate, run.config.warmupSteps, run.config.seed], [16, 2, 0.002, 2, 7]);
  assert.equal(run.config.backend, 'torch-cpu');
  assert.deepEqual([run.steps, run.bestValAccuracy, run.finalValAccuracy, run.trainSeconds], [4, 0.75, 0.75, 0.5]);
  assert.equal(run.active, false);
  const d = run.distributed!;
  assert.deepEqual([d.engine, d.workers, d.worldBackend, d.device, d.torchVersion, d.partial], ['pytorch-ddp', 2, 'gloo', 'cpu', '2.1.0', false]);
  assert.deepEqual(d.origin, { kind: 'run', id: 1, appVersion: '0.21.0', exportedAt: '2026-03-01T10:00:00.000Z' });
  assert.equal(d.plan.perWorkerBatch, 8);
  assert.equal(d.importedFrom, fixture('valid-complete.jsonl'));
  assert.match(d.sha256, /^[0-9a-f]{64}$/);

  const detail = await api.getRun({ runId: run.id, maxPoints: 10 });
  assert.deepEqual(detail.run, run);
  assert.equal(detail.series.loss.length, 4);
  assert.ok(Number.isNaN(detail.series.loss[3]!.value)); // a NaN loss stays NaN
  assert.deepEqual(
    detail.series.val_accuracy.map((p) => [p.step, p.value]),
    [
      [2, 0.625],
      [4, 0.75],
    ],
  );
  assert.deepEqual(detail.series.memory_bytes, []); // the file measures no memory: none invented
  assert.equal(detail.epochs.length, 2);
  assert.equal(detail.metricCount, 4 * 5 + 2 * 4);
  assert.equal(detail.tuning, null);
  assert.equal(detail.hasModel, false);

  const listed = (await api.listRuns()).find((r) => r.id === run.id);
  assert.deepEqual(listed, run);
  const [local, imported] = await api.compareRuns({ runIds: [1, run.id], metric: 'val_accuracy' });
  assert.equal(local!.points.length, 1);
  assert.equal(imported!.points.length, 2);
  assert.match(imported!.label, /· pytorch-ddp ×2$/);
  const csv = await api.exportRunCsv({ runId: run.id });
  assert.equal(csv.text!.trim().split('\n').length, 1 + 4);

  // The same file again: refused, naming the run; nothing changes.
  const before = snapshot();
  const again = await refused({ path: fixture('valid-complete.jsonl') });
  assert.equal(again.code, 'conflict');
  assert.match(again.message, new RegExp(`already imported as run ${run.id}`));
  assert.equal(snapshot(), before);

  // Trained elsewhere: nothing to resume here.
  const resume = await api.resumeTraining({ runId: run.id }).catch((e: unknown) => e as ApiError);
  assert.ok(resume instanceof ApiError && resume.code === 'conflict' && /trained elsewhere/.test(resume.message));

  // Deleted like any run: its metrics and provenance go; the file may then be imported again.
  const deletion = await api.deleteRun({ runId: run.id });
  assert.deepEqual([deletion.runs, deletion.metricRows], [1, 28]);
  assert.equal((db.prepare('SELECT count(*) AS n FROM run_imports').get() as { n: number }).n, 0);
  const back = await api.importRunMetrics({ path: fixture('valid-complete.jsonl') });
  assert.equal(back.distributed?.sha256, d.sha256);
  await api.deleteRun({ runId: back.id });
});

test('every bad or unfinished file is refused naming the file, line and field, and changes nothing stored', async () => {
  const before = snapshot();
  for (const c of CASES.filter((x) => x.format !== 'valid' || x.import)) {
    const err = await refused({ path: fixture(c.file) });
    const line = c.import?.line ?? c.line;
    const field = c.import ? c.import.field : c.field;
    assert.equal(err.code, 'rejected', `${c.file}: ${err.message}`);
    assert.equal(err.field, 'path');
    assert.ok(err.message.startsWith(`path: ${fixture(c.file)}, line ${line}: ${field ? `${field}: ` : ''}`), `${c.file}: ${err.message}`);
    if (c.import) assert.ok(err.message.includes(c.import.says), `${c.file}: ${err.message}`);
    if (c.format === 'unfinished') assert.match(err.message, /--partial/);
    assert.equal(snapshot(), before, `${c.file} changed the store`);
  }
  for (const bad of [path.join(home, 'nowhere.jsonl'), path.join(home, 'outside')]) {
    const err = await refused({ path: bad });
    assert.equal(err.code, 'rejected');
    assert.match(err.message, /does not exist|holds no metrics\.jsonl/);
  }
  assert.equal(snapshot(), before);
});

test('with partial, an unfinished file is stored as an interrupted run of the steps it has', async () => {
  for (const file of ['no-end.jsonl', 'truncated-last-line.jsonl']) {
    const run = await api.importRunMetrics({ path: fixture(file), partial: true });
    assert.equal(run.status, 'interrupted', file);
    assert.equal(run.error, PARTIAL_RUN_ERROR);
    assert.equal(run.steps, 4);
    assert.equal(run.distributed?.partial, true);
    assert.equal(run.endedAt, null);
    assert.equal((await api.getRun({ runId: run.id })).metricCount, 28);
    await api.deleteRun({ runId: run.id });
  }
});

test('the dataset is found by its content hash; a tuning origin links the run to that tuning', async () => {
  const byHash = variant('from-tuning', (s) => {
    s.origin = { ...s.origin, kind: 'tuning', id: tuningId };
    s.dataset.contentHash = contentHash;
  });
  const run = await api.importRunMetrics({ path: byHash }); // the --out folder
  assert.equal(run.datasetId, datasetId);
  assert.equal(run.tuningSessionId, tuningId);
  assert.equal(run.distributed?.importedFrom, path.join(byHash, 'metrics.jsonl'));
  assert.equal((await api.getRun({ runId: run.id })).tuning?.id, tuningId);

  // The origin gone, the content hash still finds the dataset.
  const gone = variant('origin-gone', (s) => {
    s.origin = { ...s.origin, kind: 'tuning', id: 999 };
    s.dataset.contentHash = contentHash;
  });
  const orphan = await api.importRunMetrics({ path: gone });
  assert.equal(orphan.datasetId, datasetId);
  assert.equal(orphan.tuningSessionId, null);

  // The origin's dataset holds other content than the file's: refused, saying so.
  const before = snapshot();
  const other = variant('other-content', (s) => (s.dataset.contentHash = 'f'.repeat(64)));
  const err = await refused({ path: other });
  assert.match(
    err.message,
    /line 1: dataset\.contentHash: the dataset "table" \(content hash ffffffffffff…\) is not in this app \(the run 1's dataset "table" holds other content now\): import it first/,
  );
  assert.equal(snapshot(), before);
});

test('`autobatch runs import --json` prints the new run; `runs list` and `runs show` tell where it trained', () => {
  const dir = variant('cli', (s) => (s.settings.seed = 9));
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, AUTOBATCH_HOME: home }, encoding: 'utf8', timeout: 120_000 });
  const imported = cli('runs', 'import', dir, '--json');
  assert.equal(imported.status, 0, imported.stderr);
  const run = JSON.parse(imported.stdout) as { id: number; status: string; distributed: { workers: number } };
  assert.equal(run.status, 'completed');
  assert.equal(run.distributed.workers, 2);

  const list = cli('runs', 'list');
  assert.match(list.stdout, new RegExp(`^${run.id}\\s.*pytorch-ddp ×2`, 'm'));
  const show = cli('runs', 'show', String(run.id));
  assert.match(show.stdout, /trained elsewhere: PyTorch DDP, 2 workers, gloo on CPU, PyTorch 2\.1\.0/);
  assert.match(show.stdout, /from {10}the plan of run 1/);

  const again = cli('runs', 'import', dir);
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, new RegExp(`already imported as run ${run.id}`));
  const unfinished = cli('runs', 'import', fixture('no-end.jsonl'));
  assert.notEqual(unfinished.status, 0);
  assert.match(unfinished.stderr, /no-end\.jsonl, line 7: no "end" line .*--partial/);
});
