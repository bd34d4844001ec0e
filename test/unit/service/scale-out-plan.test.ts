// The scale-out plan through the dispatcher (results checked against the contract), over stored
// tunings and runs: a Full report's late noise scale and time model, a run of its tuning, a run
// without one, a tuning that has not completed, unknown ids, and the plan in TuningDetail.
import { after, afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ResultOf, WireResponse } from '../../../src/shared/api/index.js';
import { ApiDispatcher } from '../../../src/main/service/api-dispatch.js';
import { AutoBatchService } from '../../../src/main/service/service.js';
import { openStore, type Store } from '../../../src/main/store/index.js';
import type { TuningReport, TuningRequest } from '../../../src/shared/tuning-types.js';
import type { TrainConfig } from '../../../src/shared/run-types.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'autobatch-scale-out-'));
after(() => rmSync(root, { recursive: true, force: true }));

let service: AutoBatchService;
let dispatcher: ApiDispatcher;
let store: Store;
let datasetId: number;
let trainCount: number;

beforeEach(async () => {
  const home = mkdtempSync(path.join(root, 'home-'));
  const source = path.join(root, 'table.csv');
  const rows = Array.from({ length: 400 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2 ? 'odd' : 'even'}`);
  writeFileSync(source, ['a,b,label', ...rows].join('\n') + '\n');
  service = new AutoBatchService({ home });
  dispatcher = new ApiDispatcher(service, { validateResults: true });
  store = openStore(home, { recoverInterrupted: false });
  const ds = await service.importDataset(source, { name: 'table' });
  datasetId = ds.id;
  trainCount = ds.manifest.split.trainCount;
});
afterEach(async () => {
  store.close();
  dispatcher.close();
  await service.close();
});

const request: TuningRequest = {
  model: 'mlp',
  mode: 'full',
  optimizer: 'adam',
  backend: 'cpu',
  baseBatchSize: 16,
  baseLearningRate: 1e-3,
  plannedEpochs: 20,
  seed: 1,
};

/** A Full search's report: batch 32, a late noise scale of 40 (forecast 25, early 10) and a time model. */
const fullReport = {
  recommendation: {
    batchSize: 32,
    learningRate: 2e-3,
    warmupSteps: 4,
    expectedSamplesPerSecond: 500,
    memoryCeiling: 64,
    memoryBudgetBytes: 1e9,
    memoryHeadroom: 0.5,
    noiseScale: 10,
    optimizer: 'adam',
  },
  reasons: ['because'],
  curves: [{ batchSize: 32, samplesPerSecond: 500 }],
  fits: { memory: null, time: { alpha: 0.02, beta: 0.0004, r2: 0.99 } },
  saturationBatch: null,
  noiseForecast: { measured: 10, measuredLoss: 1, atSamples: 3000, loss: 0.5, noiseScale: 25, lossExponent: 0.5, growthExponent: 1, growthMeasured: true },
  lateNoise: { samples: 2000, loss: 0.4, noiseScale: 40, pretrainSteps: 60, earlyNoiseScale: 25 },
  scaleOut: [{ workers: 2, speedup: 1.5 }],
  searchSeconds: 3,
} satisfies TuningReport;

const config: TrainConfig = {
  model: 'mlp',
  batchSize: 48,
  microBatchSize: 16,
  epochs: 3,
  learningRate: 1e-3,
  optimizer: 'sgd',
  momentum: 0.9,
  warmupSteps: 0,
  backend: 'cpu',
  seed: 1,
};

function session(status: 'completed' | 'stopped', report?: TuningReport, model: TuningRequest['model'] = 'mlp'): number {
  const s = store.tuning.create(datasetId, { ...request, model });
  store.tuning.finish(s.id, status, { ...(report ? { report } : {}), searchSeconds: 1 });
  return s.id;
}

function run(c: TrainConfig, tuningSessionId?: number): number {
  const r = store.runs.create({ datasetId, config: c, ...(tuningSessionId !== undefined ? { tuningSessionId } : {}) });
  store.runs.finish(r.id, 'completed');
  return r.id;
}

async function call(method: string, params: unknown): Promise<WireResponse> {
  return dispatcher.dispatch({ id: 1, method, params });
}
async function ok<M extends 'scaleOutPlan' | 'getTuning' | 'getRun'>(method: M, params: unknown): Promise<ResultOf<M>> {
  const res = await call(method, params);
  assert.ok(res.ok, `${method} ${JSON.stringify(params)}: ${res.ok ? '' : res.error.message}`);
  return res.result as ResultOf<M>;
}
async function refused(method: string, params: unknown): Promise<{ code: string; field?: string; message: string }> {
  const res = await call(method, params);
  assert.equal(res.ok, false, `${method} ${JSON.stringify(params)} was accepted`);
  return (res as Extract<WireResponse, { ok: false }>).error;
}

test("a completed tuning's plan: its recommendation scaled, with the late noise scale, its planned epochs and the data's size", async () => {
  const id = session('completed', fullReport);
  const answer = await ok('scaleOutPlan', { kind: 'tuning', id });
  assert.deepEqual([answer.source, answer.tuningId, answer.model, answer.datasetId], [{ kind: 'tuning', id }, id, 'mlp', datasetId]);
  const plan = answer.plan;
  assert.deepEqual(plan.base, { batchSize: 32, learningRate: 2e-3, optimizer: 'adam', warmupSteps: 4 });
  assert.deepEqual([plan.noiseScale, plan.noiseScaleSource, plan.epochs, plan.memoryCeiling], [40, 'late', 20, 64]);
  assert.equal(plan.rows[0]!.stepsPerEpoch, Math.ceil(trainCount / 32));
  assert.ok(plan.assumptions.some((a) => /No communication cost/.test(a)));
  // With φ ≈ 40 next to 8 × 32 = 256, eight workers split the batch.
  assert.ok(plan.rows.at(-1)!.perWorkerBatch < 32);

  // The same plan in the tuning's detail, and in the run's view of its tuning; the old speed-ups are kept.
  const detail = await ok('getTuning', { sessionId: id });
  assert.deepEqual(detail.scaleOutPlan, plan);
  assert.deepEqual(detail.report?.scaleOut, [{ workers: 2, speedup: 1.5 }]);
  const runId = run({ ...config, model: 'mlp' }, id);
  assert.deepEqual((await ok('getRun', { runId })).tuning?.scaleOutPlan, plan);
});

test("a run of a tuning: the run's own setting with the tuning's measurements, over the run's epochs", async () => {
  const id = session('completed', fullReport);
  const runId = run(config, id);
  const answer = await ok('scaleOutPlan', { kind: 'run', id: runId });
  assert.deepEqual([answer.source, answer.tuningId], [{ kind: 'run', id: runId }, id]);
  const plan = answer.plan;
  assert.deepEqual(plan.base, { batchSize: 48, learningRate: 1e-3, optimizer: 'sgd', warmupSteps: 0 });
  assert.deepEqual([plan.noiseScale, plan.noiseScaleSource, plan.epochs, plan.memoryCeiling], [40, 'late', 3, 64]);
  assert.match(plan.assumptions[0]!, new RegExp(`run ${runId}'s own .* the measurements are tuning ${id}'s`));
  for (const r of plan.rows.filter((x) => x.globalBatch > 48)) assert.ok(Math.abs(r.learningRate - 1e-3 * (r.globalBatch / 48)) < 1e-15, 'SGD: linear');
});

test('a run without a tuning (or with one of another model): its own setting, no efficiency counted, its micro-batch as the memory ceiling', async () => {
  const other = session('completed', fullReport, 'small');
  for (const tuning of [undefined, other]) {
    const runId = run(config, tuning);
    const answer = await ok('scaleOutPlan', { kind: 'run', id: runId });
    assert.equal(answer.tuningId, null);
    const plan = answer.plan;
    assert.deepEqual([plan.noiseScale, plan.noiseScaleSource, plan.memoryCeiling, plan.epochs], [null, null, 16, 3]);
    for (const r of plan.rows) {
      assert.deepEqual([r.perWorkerBatch, r.microBatch, r.globalBatch, r.efficiency], [48, 16, 48 * r.workers, 1]);
      assert.ok(Math.abs(r.speedup - r.workers) < 1e-9);
    }
    assert.match(plan.assumptions[0]!, tuning === undefined ? /it was not trained from a tuning/ : /measured another model \(small\)/);
    assert.ok(plan.assumptions.some((a) => /^No noise scale was measured/.test(a)));
    assert.ok(plan.assumptions.some((a) => /no throughput was measured/.test(a)));
  }
});

test("a tuning that has not completed has no plan: 'conflict' from the call, null in its detail; unknown ids are not found", async () => {
  const id = session('stopped');
  const err = await refused('scaleOutPlan', { kind: 'tuning', id });
  assert.deepEqual([err.code, err.field], ['conflict', 'id']);
  assert.match(err.message, new RegExp(`tuning session ${id} is stopped: only a completed tuning has a scale-out plan`));
  assert.equal((await ok('getTuning', { sessionId: id })).scaleOutPlan, null);
  for (const kind of ['run', 'tuning']) {
    const missing = await refused('scaleOutPlan', { kind, id: 999 });
    assert.deepEqual([missing.code, missing.field], ['not-found', 'id']);
    assert.match(missing.message, /^id: no (run|tuning session) "999"/);
  }
  assert.equal((await refused('scaleOutPlan', { kind: 'job', id: 1 })).code, 'invalid-params');
});
