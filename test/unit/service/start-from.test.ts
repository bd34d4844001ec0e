// Starting a run or a search from a trained model, through the API as every front end calls it
// (with a stand-in trainer: what is checked here is what the service stores and hands the
// trainer, not training): the run's model and StartFrom record, the copy in start-models/, the
// job's startModelDir and tuning, the search's probes, "Train with this" keeping the ratio of
// rates — and every refusal leaving the runs, the searches and start-models/ as they were.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { WireResponse } from '../../../src/shared/api/index.js';
import { buildModel } from '../../../src/main/engine/models/build-model.js';
import { saveModelToDir } from '../../../src/main/engine/models/model-files.js';
import { ApiDispatcher } from '../../../src/main/service/api-dispatch.js';
import { AutoBatchService } from '../../../src/main/service/service.js';
import type { TrainerProcess } from '../../../src/main/service/trainer-host.js';
import type { HostMessage } from '../../../src/shared/trainer-protocol.js';
import type { ProbeHostMessage } from '../../../src/shared/probe-protocol.js';
import type { TrainJob } from '../../../src/shared/trainer-protocol.js';
import type { ProbeSession } from '../../../src/shared/probe-protocol.js';
import { openStore, type Store } from '../../../src/main/store/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'autobatch-start-from-'));
const models = path.join(root, 'models');
let server: http.Server;
let base: string;

/** Every message the stand-in trainers were sent. */
let sent: (HostMessage | ProbeHostMessage)[] = [];
/** A trainer that never trains: it stays until stopped; a probe session's process dies at once (the search fails). */
function fakeTrainer(): TrainerProcess {
  let exit: (code: number | null, signal: NodeJS.Signals | null) => void = () => {};
  return {
    pid: 1_000_000,
    send: (msg) => {
      sent.push(msg);
      if (msg.type === 'stop') setImmediate(() => exit(0, null));
      if (msg.type === 'start-probes') setImmediate(() => exit(1, null));
    },
    kill: (signal) => setImmediate(() => exit(null, signal ?? 'SIGTERM')),
    onMessage: () => {},
    onExit: (cb) => (exit = cb),
  };
}

before(async () => {
  await tf.setBackend('cpu');
  for (const [name, kind, inputShape] of [
    ['cnn', 'small', [12, 12, 1]],
    ['resnet', 'resnet-8', [12, 12, 1]],
    ['mlp', 'mlp', [12, 12, 1]],
  ] as const) {
    const model = buildModel(kind, { inputShape: [...inputShape], classes: 3 }, 1);
    await saveModelToDir(model, path.join(models, name), {
      format: 'autobatch-model',
      formatVersion: 1,
      model: kind,
      classes: ['a', 'b', 'c'],
      inputShape,
      normalization: { kind: 'scale', scale: 1 / 255 },
      runId: 1,
    });
    model.dispose();
  }
  mkdirSync(path.join(models, 'graph'));
  writeFileSync(path.join(models, 'graph', 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
  mkdirSync(path.join(models, 'garbled'));
  writeFileSync(path.join(models, 'garbled', 'model.json'), '{"modelTopology": ');
  // /silent/… never answers; everything else is 404.
  server = http.createServer((req, res) => {
    if (req.url?.startsWith('/silent/')) return;
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

let home: string;
let service: AutoBatchService;
let dispatcher: ApiDispatcher;
let store: Store;
let digits: number;
let table: number;

beforeEach(async () => {
  home = mkdtempSync(path.join(root, 'home-'));
  sent = [];
  service = new AutoBatchService({ home, spawn: fakeTrainer, startModelLimits: { timeoutMs: 300 } });
  dispatcher = new ApiDispatcher(service, { validateResults: true });
  store = openStore(home, { recoverInterrupted: false });
  digits = (await service.importDataset('sample:mnist', { name: 'digits', limit: 60, imageSize: [12, 12] })).id;
  const csv = path.join(home, 'table.csv');
  writeFileSync(csv, ['a,b,label', ...Array.from({ length: 30 }, (_, i) => `${i % 7},${i % 5},${i % 2 ? 'odd' : 'even'}`)].join('\n'));
  table = (await service.importDataset(csv, { name: 'table' })).id;
});
afterEach(async () => {
  store.close();
  dispatcher.close();
  await service.close();
});

async function call(method: string, params: unknown): Promise<WireResponse> {
  return dispatcher.dispatch({ id: 1, method, params });
}
async function ok<T>(method: string, params: unknown): Promise<T> {
  const res = await call(method, params);
  assert.ok(res.ok, `${method} ${JSON.stringify(params)}: ${res.ok ? '' : res.error.message}`);
  return res.result as T;
}

const CONFIG = { batchSize: 8, epochs: 1, learningRate: 2e-3, backend: 'cpu' };
const startModels = () => path.join(home, 'start-models');
/** What a refusal must leave as it was. */
function state() {
  return {
    runs: store.runs.list().length,
    tunings: store.tuning.list().length,
    startModels: existsSync(startModels()) ? readdirSync(startModels()).sort() : [],
  };
}

test('a run from a folder: its model is the start model, the copy is stored, the trainer gets it', async () => {
  const { runId } = await ok<{ runId: number }>('startTraining', {
    dataset: digits,
    config: CONFIG,
    startFrom: { source: path.join(models, 'resnet'), unfreeze: 2 },
  });
  const run = store.runs.get(runId)!;
  assert.equal(run.model, 'resnet-8');
  const s = run.config.startFrom!;
  assert.equal(s.sourceKind, 'folder');
  assert.equal(s.architecture, 'resnet-8');
  assert.deepEqual(s.classes, ['a', 'b', 'c']);
  assert.equal(s.unfreeze, 2);
  assert.equal(s.batchNormTrained, true);
  assert.ok(Math.abs(s.fineTuneLearningRate - 2e-4) < 1e-12);
  const dir = path.join(startModels(), s.digest);
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
  const job = (sent.find((m) => m.type === 'start') as { job: TrainJob }).job;
  assert.equal(job.startModelDir, dir);
  assert.deepEqual(job.config.startFrom, s);
  // runs show --json: the detail carries it.
  const detail = await ok<{ run: { config: { startFrom?: unknown } } }>('getRun', { runId });
  assert.deepEqual(detail.run.config.startFrom, s);
  service.stopRun(runId);

  // A second run from the same model (as run id: this one never completed, so it is refused) shares the copy.
  const second = await ok<{ runId: number }>('startTraining', {
    dataset: digits,
    config: { ...CONFIG, model: 'resnet-8' },
    startFrom: { source: path.join(models, 'resnet', 'model.json') },
  });
  assert.equal(store.runs.get(second.runId)!.config.startFrom!.digest, s.digest);
  assert.deepEqual(readdirSync(startModels()), [s.digest]);
  service.stopRun(second.runId);
  const notDone = await call('startTraining', { dataset: digits, config: CONFIG, startFrom: { source: String(runId) } });
  assert.ok(
    !notDone.ok && notDone.error.field === 'startFrom.source' && /run \d+ is (queued|stopped|running): only a completed run/.test(notDone.error.message),
    JSON.stringify(notDone),
  );
});

test('every refusal leaves the runs, the searches and start-models/ as they were', async () => {
  // One model stored already, so that "unchanged" is not "still absent".
  const first = await ok<{ runId: number }>('startTraining', { dataset: digits, config: CONFIG, startFrom: { source: path.join(models, 'cnn') } });
  service.stopRun(first.runId);
  const before = state();
  assert.equal(before.startModels.length, 1);
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['graph model', { startFrom: { source: path.join(models, 'graph') } }, 'startFrom.source', /TensorFlow graph model .*tfjs cannot train one/],
    ['MLP (no convolutional backbone)', { startFrom: { source: path.join(models, 'mlp') } }, 'startFrom.source', /no convolutional backbone/],
    ['unreadable file', { startFrom: { source: path.join(models, 'garbled') } }, 'startFrom.source', /garbled.model\.json is not JSON/],
    ['missing file', { startFrom: { source: path.join(models, 'absent') } }, 'startFrom.source', /cannot read .*absent: no such file or folder/],
    ['address that does not answer', { startFrom: { source: `${base}/silent/model.json` } }, 'startFrom.source', /did not answer within 300 ms/],
    ['HTTP 404', { startFrom: { source: `${base}/gone/model.json` } }, 'startFrom.source', /answered HTTP 404/],
    ['no such run', { startFrom: { source: '999' } }, 'startFrom.source', /no run 999 in this data folder/],
    ['unfreeze beyond the backbone', { startFrom: { source: path.join(models, 'cnn'), unfreeze: 50 } }, 'startFrom.unfreeze', /unfreeze at most \d+/],
    ['a table dataset', { dataset: table, startFrom: { source: path.join(models, 'cnn') } }, 'startFrom', /has a table .*convolutional backbone takes images/],
  ];
  for (const [what, params, field, message] of cases) {
    for (const method of ['startTraining', 'startTuning'] as const) {
      const request = method === 'startTraining' ? { dataset: digits, config: CONFIG, ...params } : { dataset: digits, backend: 'cpu', ...params };
      const res = await call(method, request);
      assert.equal(res.ok, false, `${method}, ${what}: accepted`);
      const error = (res as Extract<WireResponse, { ok: false }>).error;
      assert.equal(error.field, field, `${method}, ${what}: ${error.message}`);
      assert.match(error.message, message, `${method}, ${what}`);
      assert.deepEqual(state(), before, `${method}, ${what}: something stored changed`);
    }
  }
  // A model named besides a start model must be the start model's.
  const mismatch = await call('startTraining', { dataset: digits, config: { ...CONFIG, model: 'large' }, startFrom: { source: path.join(models, 'cnn') } });
  assert.ok(
    !mismatch.ok && mismatch.error.field === 'config.model' && /starts from a small model, so its model is small, not large/.test(mismatch.error.message),
    JSON.stringify(mismatch),
  );
  const tuneMismatch = await call('startTuning', { dataset: digits, model: 'large', startFrom: { source: path.join(models, 'cnn') } });
  assert.ok(!tuneMismatch.ok && tuneMismatch.error.field === 'model', JSON.stringify(tuneMismatch));
  assert.deepEqual(state(), before);
});

test('a search from a start model: stored with it, its probes train it; "Train with this" keeps the ratio of rates', async () => {
  const { sessionId } = await ok<{ sessionId: number }>('startTuning', {
    dataset: digits,
    backend: 'cpu',
    baseLearningRate: 1e-3,
    startFrom: { source: path.join(models, 'resnet'), unfreeze: 1, fineTuneLearningRate: 5e-4 },
  });
  const session = store.tuning.get(sessionId)!;
  assert.equal(session.model, 'resnet-8');
  const s = session.request.startFrom!;
  assert.equal(s.fineTuneLearningRate, 5e-4);
  const probes = (sent.find((m) => m.type === 'start-probes') as { session: ProbeSession }).session;
  assert.deepEqual(probes.startModel, { dir: path.join(startModels(), s.digest), unfreeze: 1, fineTuneRateFactor: 0.5 });
  assert.equal(probes.model, 'resnet-8');
  // The stand-in's probe process died, so the search failed; the same search, completed with a
  // recommendation, is written beside it.
  while (service.isTuningActive(sessionId)) await new Promise((r) => setTimeout(r, 10));
  const completed = store.tuning.create(digits, session.request).id;
  const recommendation = {
    batchSize: 24,
    learningRate: 4e-3,
    warmupSteps: 5,
    expectedSamplesPerSecond: 100,
    memoryCeiling: 64,
    memoryBudgetBytes: 1e9,
    memoryHeadroom: 0.5,
    noiseScale: null,
    optimizer: 'adam' as const,
  };
  store.tuning.finish(completed, 'completed', {
    report: { recommendation, reasons: [], curves: [], fits: { memory: null, time: null }, saturationBatch: null, scaleOut: null, searchSeconds: 1 },
  });
  const { runId } = await ok<{ runId: number }>('startTraining', { fromTuning: completed, config: { epochs: 1 } });
  const run = store.runs.get(runId)!;
  assert.equal(run.model, 'resnet-8');
  assert.equal(run.config.batchSize, 24);
  assert.deepEqual({ ...run.config.startFrom, fineTuneLearningRate: 0 }, { ...s, fineTuneLearningRate: 0 });
  assert.ok(
    Math.abs(run.config.startFrom!.fineTuneLearningRate - 2e-3) < 1e-12,
    `half the recommended rate, as searched: ${run.config.startFrom!.fineTuneLearningRate}`,
  );
  const job = (sent.find((m) => m.type === 'start') as { job: TrainJob }).job;
  assert.equal(job.startModelDir, path.join(startModels(), s.digest));
  assert.deepEqual(job.tuning, {
    sessionId: completed,
    mode: 'quick',
    recommendation: {
      batchSize: 24,
      learningRate: 4e-3,
      warmupSteps: 5,
      optimizer: 'adam',
      memoryCeiling: 64,
      expectedSamplesPerSecond: 100,
      noiseScale: null,
    },
  });
  const detail = await ok<{ tuning: { request: { startFrom?: unknown } } | null }>('getRun', { runId });
  assert.deepEqual(detail.tuning?.request.startFrom, s);
  service.stopRun(runId);

  // The copy gone from the data folder: "Train with this" says so, and stores nothing.
  rmSync(path.join(startModels(), s.digest), { recursive: true });
  const runs = store.runs.list().length;
  const gone = await call('startTraining', { fromTuning: completed, config: { epochs: 1 } });
  assert.ok(!gone.ok && gone.error.field === 'fromTuning' && /is no longer in the data folder/.test(gone.error.message), JSON.stringify(gone));
  assert.equal(store.runs.list().length, runs);
});
