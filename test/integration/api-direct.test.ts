// The direct transport (in-process, as the CLI and tests use it) goes through the dispatcher:
// a whole session — import, look, train, review, export — with every result checked against
// the contract's schemas.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiError, type EventData, type EventName } from '../../src/shared/api/index.js';
import { MODEL_KINDS } from '../../src/shared/run-types.js';
import { architectureInfo, trainableParameters } from '../../src/shared/model-families.js';
import { ApiDispatcher, checkEvent } from '../../src/main/service/api-dispatch.js';
import { createDirectApi } from '../../src/main/service/api-direct.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { tempHome } from './helpers.js';

/** A planned run of ten minutes: the search's time allowance (30 s Quick, 90 s Full) then cuts no probe on these small datasets, which is what these tests check; its trials take 6 s each (1 % of it). */
const TEN_MINUTES = 600;

const home = tempHome('autobatch-direct-');
const service = new AutoBatchService({ home });
const dispatcher = new ApiDispatcher(service, { validateResults: true });
const api = createDirectApi(dispatcher);
after(async () => {
  api.close();
  dispatcher.close();
  await service.close();
});

function collect<E extends EventName>(event: E): EventData<E>[] {
  const out: EventData<E>[] = [];
  api.on(event, (d) => out.push(d));
  return out;
}

test('import, inspect, train one epoch, review and export through the direct transport', { timeout: 300_000 }, async () => {
  const progress = collect('import-progress');
  const statuses = collect('run-status');
  const allEvents: { event: string; data: unknown }[] = [];
  const unsubscribe = dispatcher.subscribe((e) => allEvents.push(e));

  const ds = await api.importSample({ limit: 300, importId: 'sample-1', name: 'digits' });
  assert.equal(ds.name, 'digits');
  assert.equal(ds.count, 300);
  assert.equal(ds.classes.length, 10);
  assert.equal(
    ds.classes.reduce((s, c) => s + c.count, 0),
    300,
  );
  assert.ok(ds.previews.length >= 10);
  assert.ok(ds.previews.every((p) => p.image?.startsWith('data:image/png;base64,')));
  // 28×28 digits fit every model (the plain CNNs need 10 and 16 pixels, the others 8).
  assert.deepEqual(ds.models, [...MODEL_KINDS]);
  await new Promise((r) => setTimeout(r, 150));
  assert.ok(progress.length > 0 && progress.every((p) => p.importId === 'sample-1'));

  assert.deepEqual(
    (await api.listDatasets()).map((d) => d.name),
    ['digits'],
  );
  assert.equal((await api.getDataset({ dataset: 'digits', previewsPerClass: 1 })).previews.length, 10);

  const { runId } = await api.startTraining({ dataset: ds.id, config: { model: 'mlp', epochs: 1, batchSize: 32, backend: 'wasm' } });
  assert.equal(
    (await api.activeRuns()).some((r) => r.id === runId),
    true,
  );
  const deadline = Date.now() + 240_000;
  while (!statuses.some((s) => s.runId === runId && s.status === 'completed') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const failed = statuses.find((s) => s.status === 'failed');
    assert.equal(failed, undefined, failed?.error);
  }
  assert.deepEqual(
    statuses.filter((s) => s.runId === runId).map((s) => s.status),
    ['queued', 'running', 'completed'],
  );
  unsubscribe();
  assert.ok(allEvents.length > 0 && allEvents.every(checkEvent), 'every event matches the contract');

  const runs = await api.listRuns({ dataset: 'digits', model: 'mlp', status: 'completed' });
  assert.deepEqual(
    runs.map((r) => r.id),
    [runId],
  );
  assert.equal(typeof runs[0]!.bestValAccuracy, 'number');
  assert.deepEqual(await api.listRuns({ model: 'small' }), []);

  const detail = await api.getRun({ runId, maxPoints: 10, misclassifiedLimit: 5 });
  assert.equal(detail.run.status, 'completed');
  assert.ok(detail.series.loss.length > 0 && detail.series.loss.length <= 10, `${detail.series.loss.length} points`);
  assert.equal(detail.epochs.length, 1);
  assert.ok(detail.hasModel);
  const ev = detail.evaluation!;
  assert.equal(ev.confusion.length, 10);
  assert.equal(
    ev.confusion.flat().reduce((a, b) => a + b, 0),
    ds.split.validationCount,
  );
  assert.ok(ev.misclassified.length <= 5);
  for (let i = 1; i < ev.misclassified.length; i++) assert.ok(ev.misclassified[i - 1]!.confidence >= ev.misclassified[i]!.confidence, 'most confident first');
  assert.ok(ev.misclassified.every((m) => m.image?.startsWith('data:image/png;base64,')));

  const compared = await api.compareRuns({ runIds: [runId], metric: 'loss', maxPoints: 20 });
  assert.equal(compared[0]!.runId, runId);

  const csv = await api.exportRunCsv({ runId });
  assert.match(csv.text!, /^step,epoch,time,loss,accuracy/);
  assert.ok(csv.fileName.endsWith('.csv'));
  const model = await api.exportModel({ runId });
  assert.ok(model.fileName.endsWith('.tar'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autobatch-model-'));
  writeFileSync(path.join(dir, model.fileName), Buffer.from(model.base64!, 'base64'));
  const list = spawnSync('tar', ['-tf', path.join(dir, model.fileName)], { encoding: 'utf8' });
  if (list.status === 0) {
    const names = list.stdout
      .trim()
      .split('\n')
      .map((n) => n.split('/').slice(1).join('/'));
    assert.deepEqual(names.sort(), ['evaluation.json', 'model.json', 'weights.bin']);
  }
});

test('Auto-tune (Quick) and "Train with this" through the API, with progress, trials and status events', { timeout: 300_000 }, async () => {
  const progress = collect('tune-progress');
  const trials = collect('tune-trial');
  const tuneStatuses = collect('tune-status');
  const runStatuses = collect('run-status');
  const ds = await api.importSample({ limit: 600, name: 'tune-digits' });
  const { sessionId } = await api.startTuning({ dataset: ds.id, model: 'mlp', mode: 'quick', backend: 'wasm', budgetSeconds: TEN_MINUTES });
  const running = await api.getTuning({ sessionId });
  assert.equal(running.active, true);
  const deadline = Date.now() + 240_000;
  while (!tuneStatuses.some((s) => s.sessionId === sessionId && s.status !== 'running') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const end = tuneStatuses.find((s) => s.sessionId === sessionId && s.status !== 'running');
  assert.equal(end?.status, 'completed', end?.error);
  assert.ok(progress.some((p) => p.sessionId === sessionId && p.phase === 'memory'));
  assert.ok(trials.length >= 5 && trials.every((t) => t.sessionId === sessionId));

  const t = await api.getTuning({ sessionId });
  assert.equal(t.status, 'completed');
  assert.equal(t.active, false);
  assert.equal(t.lastProgress, null);
  assert.equal(t.trials.length, trials.length, 'every trial event is a stored trial');
  const rec = t.report!.recommendation;
  assert.ok(t.report!.reasons.length > 0 && t.report!.curves.length > 0);
  assert.deepEqual(t.recommendation, { batchSize: rec.batchSize, learningRate: rec.learningRate });
  // The scale-out plan, in the detail and from its own call: a Quick search has no noise scale, so K·B with a speed-up of K.
  assert.deepEqual((await api.scaleOutPlan({ kind: 'tuning', id: sessionId })).plan, t.scaleOutPlan);
  assert.deepEqual(
    t.scaleOutPlan?.rows.map((r) => [r.globalBatch, r.speedup]),
    [1, 2, 4, 8].map((k) => [k * rec.batchSize, k]),
  );
  assert.deepEqual(
    (await api.listTunings({ dataset: 'tune-digits' })).map((x) => x.id),
    [sessionId],
  );
  assert.deepEqual(await api.listTunings({ dataset: 'tune-digits', status: 'failed' }), []);

  const { runId } = await api.startTraining({ fromTuning: sessionId, config: { epochs: 1 }, maxSteps: 5 });
  while (!runStatuses.some((s) => s.runId === runId && s.status !== 'queued' && s.status !== 'running') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  const detail = await api.getRun({ runId });
  assert.equal(detail.run.status, 'completed', detail.run.error ?? '');
  assert.equal(detail.run.config.batchSize, rec.batchSize);
  assert.equal(detail.run.config.learningRate, rec.learningRate);
  assert.equal(detail.run.config.epochs, 1);
  assert.equal(detail.tuning?.id, sessionId);
  assert.ok(detail.tuning?.report);
  const runPlan = await api.scaleOutPlan({ kind: 'run', id: runId });
  assert.deepEqual([runPlan.tuningId, runPlan.plan.epochs, runPlan.plan.base.batchSize], [sessionId, 1, rec.batchSize]);
});

test("listArchitectures: every model with its size at the reference input, or at a dataset's, and whether it fits", async () => {
  const reference = await api.listArchitectures();
  assert.equal(reference.dataset, null);
  assert.deepEqual([reference.inputShape, reference.classes], [[32, 32, 3], 10]);
  assert.deepEqual(
    reference.models.map((a) => a.model),
    [...MODEL_KINDS],
  );
  const byModel = new Map(reference.models.map((a) => [a.model, a]));
  // Well-known sizes at 32×32×3 and 10 classes (their agreement with tfjs: build-model-parameters.test.ts).
  assert.equal(byModel.get('resnet-20')!.trainableParameters, 272_474);
  assert.equal(byModel.get('mobilenet-1.0')!.trainableParameters, 2_236_682);
  assert.equal(byModel.get('resnet-18')!.trainableParameters, 11_181_642);
  assert.deepEqual(byModel.get('resnet-8'), {
    ...architectureInfo('resnet-8'),
    minimumBatch: 16,
    trainableParameters: trainableParameters('resnet-8', [32, 32, 3], 10),
    fits: true,
    problem: null,
  });
  assert.equal(byModel.get('mlp')!.minimumBatch, 1);

  // A table: only the MLP fits, sized to its 4 features and 3 classes; the others say why not.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autobatch-arch-'));
  const rows = Array.from({ length: 30 }, (_, i) => `${i},${i % 7},${(i * 3) % 5},${i % 2},${['a', 'b', 'c'][i % 3]}`);
  writeFileSync(path.join(dir, 'table.csv'), ['w,x,y,z,label', ...rows].join('\n') + '\n');
  const table = await api.importDataset({ source: path.join(dir, 'table.csv'), name: 'arch-table' });
  const atTable = await api.listArchitectures({ dataset: 'arch-table' });
  assert.deepEqual(atTable.dataset, { id: table.id, name: 'arch-table' });
  assert.deepEqual([atTable.inputShape, atTable.classes], [[4], 3]);
  for (const a of atTable.models) {
    if (a.model === 'mlp') {
      assert.deepEqual([a.fits, a.problem, a.trainableParameters], [true, null, trainableParameters('mlp', [4], 3)]);
    } else {
      assert.equal(a.fits, false, a.model);
      assert.equal(a.trainableParameters, null, a.model);
      assert.match(a.problem!, new RegExp(`^the ${a.model.replace('.', '\\.')} model needs image inputs.*4 tabular features`));
    }
  }
  // The same as the dataset's own list of fitting models.
  assert.deepEqual(
    atTable.models.filter((a) => a.fits).map((a) => a.model),
    table.models,
  );
  await assert.rejects(
    api.listArchitectures({ dataset: 'no such dataset' }),
    (e: unknown) => e instanceof ApiError && e.code === 'not-found' && e.field === 'dataset',
  );
});

test('errors arrive as ApiError with code and field', async () => {
  await assert.rejects(api.getRun({ runId: -1 }), (e: unknown) => e instanceof ApiError && e.code === 'invalid-params' && e.field === 'runId');
  await assert.rejects(api.getRun({ runId: 999 }), (e: unknown) => e instanceof ApiError && e.code === 'not-found');
  await assert.rejects(api.chooseFolder(), (e: unknown) => e instanceof ApiError && e.code === 'unavailable');
  await assert.rejects(api.upload([]), (e: unknown) => e instanceof ApiError && e.code === 'unavailable');
});

test('backends are detected in throw-away processes, with a reason for each unavailable one', { timeout: 180_000 }, async () => {
  const b = await api.detectBackends();
  assert.ok(b.backends.length >= 4);
  const cpu = b.backends.find((x) => x.label === 'cpu')!;
  assert.equal(cpu.available, true);
  for (const x of b.backends) assert.ok(x.available ? x.device : x.reason, JSON.stringify(x));
  assert.ok(b.auto, 'auto found a backend');
  assert.ok(b.memoryBudget && b.memoryBudget.bytes > 0);
  assert.equal((await api.detectBackends()).detectedAt, b.detectedAt, 'cached');
});
