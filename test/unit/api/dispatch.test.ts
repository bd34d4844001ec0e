// The dispatcher is the only door from any transport into the service: malformed requests are
// answered with a message naming the bad field and never reach the service.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { API_METHODS, METHOD_NAMES, type WireResponse } from '../../../src/shared/api/index.js';
import { ApiDispatcher } from '../../../src/main/service/api-dispatch.js';
import { AutoBatchService } from '../../../src/main/service/service.js';
import { SettingsStore } from '../../../src/main/service/settings-store.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'autobatch-dispatch-'));
const service = new AutoBatchService({ home });
const dispatcher = new ApiDispatcher(service, { validateResults: true });
after(async () => {
  dispatcher.close();
  await service.close();
  rmSync(home, { recursive: true, force: true });
});

/** Records every call that reaches these service methods. */
const reached: string[] = [];
for (const name of [
  'startTraining',
  'startTuning',
  'importDataset',
  'getDataset',
  'stopRun',
  'getRun',
  'listRuns',
  'runCsv',
  'deleteDataset',
  'deleteRun',
  'deleteTuning',
] as const) {
  const original = service[name].bind(service) as (...a: unknown[]) => unknown;
  (service as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
    reached.push(name);
    return original(...args);
  };
}

async function rejected(method: string, params: unknown): Promise<Extract<WireResponse, { ok: false }>['error']> {
  reached.length = 0;
  const res = await dispatcher.dispatch({ id: 7, method, params });
  assert.equal(res.ok, false, `${method} ${JSON.stringify(params)} should fail`);
  assert.equal(res.id, 7);
  assert.deepEqual(reached, [], `${method} must not reach the service`);
  return (res as Extract<WireResponse, { ok: false }>).error;
}

const cases: [string, unknown, string][] = [
  ['startTraining', { dataset: 1, config: { batchSize: 0 } }, 'config.batchSize'],
  ['startTraining', { dataset: 1, config: { model: 'resnet' } }, 'config.model'],
  ['startTraining', { dataset: 1, config: { epochs: 2.5 } }, 'config.epochs'],
  ['startTraining', { dataset: 1, config: { learningRate: -1 } }, 'config.learningRate'],
  ['startTraining', { dataset: 1, cofnig: {} }, 'cofnig'],
  ['startTraining', { dataset: {}, config: {} }, 'dataset'],
  ['startTuning', { dataset: 1, model: 'small', mode: 'fast' }, 'mode'],
  ['startTuning', { dataset: 1 }, 'model'],
  ['startTuning', { dataset: 1, model: 'small', memoryBudgetBytes: -5 }, 'memoryBudgetBytes'],
  ['importDataset', { source: '' }, 'source'],
  ['importDataset', { source: '/x', limit: 3 }, 'limit'],
  ['importDataset', { source: '/x', imageSize: [28] }, 'imageSize'],
  ['getDataset', {}, 'dataset'],
  ['getRun', { runId: 'seven' }, 'runId'],
  ['getRun', { runId: 0 }, 'runId'],
  ['stopTraining', { runId: 1.5 }, 'runId'],
  ['listRuns', { status: 'great' }, 'status'],
  ['exportRunCsv', {}, 'runId'],
  ['compareRuns', { runIds: [], metric: 'loss' }, 'runIds'],
  ['compareRuns', { runIds: [1], metric: 'rm -rf' }, 'metric'],
  ['updateSettings', { memoryBudgetBytes: 'lots' }, 'memoryBudgetBytes'],
  ['startTraining', { config: { model: 'mlp' } }, 'dataset'],
  ['deleteDataset', {}, 'dataset'],
  ['deleteDataset', { dataset: '' }, 'dataset'],
  ['deleteDataset', { dataset: 1, force: true }, 'force'],
  ['deleteRun', { runId: 0 }, 'runId'],
  ['deleteRun', { runId: 1, dryRun: 'yes' }, 'dryRun'],
  ['deleteTuning', { sessionId: '3' }, 'sessionId'],
  ['deleteTuning', { sessionId: 3, dryRun: 1 }, 'dryRun'],
  ['tuningTrialRows', { sessionId: 0 }, 'sessionId'],
  ['exportTuningCsv', { sessionId: 'all' }, 'sessionId'],
  ['exportTuningCsv', { sessionId: 1, format: 'xlsx' }, 'format'],
];

for (const [method, params, field] of cases) {
  test(`${method} ${JSON.stringify(params)} is refused naming ${field}`, async () => {
    const error = await rejected(method, params);
    assert.equal(error.code, 'invalid-params');
    assert.equal(error.field, field);
    assert.match(error.message, new RegExp(`^invalid ${method} request: .*${field.replace('.', '\\.')}`));
  });
}

test('params that are not an object are refused', async () => {
  const error = await rejected('getRun', 'run 1');
  assert.equal(error.code, 'invalid-params');
  assert.match(error.message, /expected object/i);
});

test('a malformed envelope is refused, with the id echoed when there is one', async () => {
  for (const raw of [null, 'listRuns', { method: 'listRuns' }, { id: 3 }, { id: 3, method: 'listRuns', extra: 1 }, { id: { no: 1 }, method: 'listRuns' }]) {
    const res = await dispatcher.dispatch(raw);
    assert.equal(res.ok, false, JSON.stringify(raw));
    if (!res.ok) {
      assert.equal(res.error.code, 'invalid-params');
      assert.match(res.error.message, /^malformed request/);
    }
  }
  const res = await dispatcher.dispatch({ id: 3 });
  assert.equal(res.id, 3);
});

test('an unknown method is named, and inherited object keys are not methods', async () => {
  for (const method of ['dropDatabase', 'constructor', '__proto__', 'toString']) {
    const error = await rejected(method, {});
    assert.equal(error.code, 'unknown-method');
    assert.equal(error.field, 'method');
  }
});

test('desktop-only calls say so outside Electron, with what this client does instead', async () => {
  const error = await rejected('chooseFolder', {});
  assert.equal(error.code, 'unavailable');
  assert.match(error.message, /^chooseFolder is not available in this client \(the browser\): it needs the desktop app's native dialogs; type a path/);
  const cli = new ApiDispatcher(service, { client: 'cli' });
  try {
    for (const method of ['chooseFolder', 'chooseFile', 'saveExport'] as const) {
      const res = await cli.dispatch({ id: 1, method, params: method === 'saveExport' ? { runId: 1, kind: 'csv' } : {} });
      assert.ok(!res.ok && res.error.code === 'unavailable', JSON.stringify(res));
      assert.match(res.error.message, new RegExp(`^${method} is not available in this client \\(the command line\\): .*; give `));
    }
  } finally {
    cli.close();
  }
});

test('valid calls reach the service; its errors come back with a code', async () => {
  reached.length = 0;
  const list = await dispatcher.dispatch({ id: 'a', method: 'listRuns', params: {} });
  assert.deepEqual(list, { id: 'a', ok: true, result: [] });
  assert.deepEqual(reached, ['listRuns']);

  const missing = await dispatcher.dispatch({ id: 2, method: 'getRun', params: { runId: 99 } });
  assert.equal(missing.ok, false);
  if (!missing.ok) assert.deepEqual(missing.error, { code: 'not-found', field: 'runId', message: 'runId: no run "99"' });

  const noDataset = await dispatcher.dispatch({ id: 3, method: 'startTraining', params: { dataset: 'nope', config: { model: 'mlp' } } });
  assert.equal(noDataset.ok, false);
  if (!noDataset.ok) {
    assert.equal(noDataset.error.code, 'not-found');
    assert.equal(noDataset.error.field, 'dataset');
    assert.match(noDataset.error.message, /nope/);
  }

  const notRunning = await dispatcher.dispatch({ id: 4, method: 'stopTraining', params: { runId: 5 } });
  assert.equal(notRunning.ok, false);

  const badSource = await dispatcher.dispatch({ id: 5, method: 'importDataset', params: { source: path.join(home, 'does-not-exist') } });
  assert.equal(badSource.ok, false);
  if (!badSource.ok) {
    assert.equal(badSource.error.code, 'rejected');
    assert.equal(badSource.error.field, 'source');
  }

  const noSession = await dispatcher.dispatch({ id: 6, method: 'stopTuning', params: { sessionId: 99 } });
  assert.equal(noSession.ok, false);
  if (!noSession.ok) assert.deepEqual([noSession.error.code, noSession.error.field], ['not-found', 'sessionId']);
});

test('delete calls reach the service: unknown ids are not found, naming the field', async () => {
  for (const [method, params, field, message] of [
    ['deleteDataset', { dataset: 'nope' }, 'dataset', 'dataset: no dataset "nope"'],
    ['deleteDataset', { dataset: 42, dryRun: true }, 'dataset', 'dataset: no dataset "42"'],
    ['deleteRun', { runId: 99 }, 'runId', 'runId: no run "99"'],
    ['deleteTuning', { sessionId: 99, dryRun: false }, 'sessionId', 'sessionId: no tuning session "99"'],
  ] as const) {
    reached.length = 0;
    const res = await dispatcher.dispatch({ id: 8, method, params });
    assert.deepEqual(res, { id: 8, ok: false, error: { code: 'not-found', field, message } });
    assert.equal(reached[0], method);
  }
});

test('tuning exports: an unknown session is not found, naming the field; without one, every session (none here)', async () => {
  for (const method of ['tuningTrialRows', 'exportTuningCsv'] as const) {
    const res = await dispatcher.dispatch({ id: 9, method, params: { sessionId: 99 } });
    assert.deepEqual(res, { id: 9, ok: false, error: { code: 'not-found', field: 'sessionId', message: 'sessionId: no tuning session "99"' } });
  }
  assert.deepEqual(await dispatcher.call('tuningTrialRows', {}), []);
  const file = (await dispatcher.call('exportTuningCsv', {})) as { fileName: string; text: string; bytes: number };
  assert.equal(file.fileName, 'tunings-trials.csv');
  assert.match(
    file.text,
    /^tuningId,tuningStatus,createdAt,datasetId,dataset,model,mode,engine,backend,rung,device,seq,kind,batchSize,learningRate,status,oom,cause,seconds\n$/,
  );
  assert.equal(file.bytes, file.text.length);
});

test('settings round-trip through settings.json', async () => {
  const s = await dispatcher.call('getSettings', {});
  assert.deepEqual(s, {
    dataFolder: path.resolve(home),
    memoryBudgetBytes: null,
    backend: 'auto',
    pythonPath: null,
    checkpointMinutes: 5,
    adaptiveEverySteps: 200,
    adaptiveMinSteps: 500,
    version: (s as { version: string }).version,
  });
  const changed = {
    memoryBudgetBytes: 2 ** 30,
    backend: 'wasm',
    pythonPath: '/opt/py/bin/python3',
    checkpointMinutes: 12,
    adaptiveEverySteps: 100,
    adaptiveMinSteps: 300,
  };
  await dispatcher.call('updateSettings', changed);
  const again = new ApiDispatcher(service);
  assert.deepEqual(await again.call('getSettings', {}), { ...(s as object), ...changed });
  again.close();
  // In the file, as the next process reads it.
  assert.deepEqual(new SettingsStore(home).get(), changed);
  await dispatcher.call('updateSettings', { memoryBudgetBytes: null, backend: 'auto', pythonPath: null });
  assert.equal(new SettingsStore(home).get().pythonPath, null, 'null clears it');
});

test('every method of the contract has a handler or is desktop-only', () => {
  assert.deepEqual(Object.keys(API_METHODS), METHOD_NAMES);
  assert.ok(METHOD_NAMES.length >= 20);
});

test("a path typed as ~/… means the serving user's home folder", async () => {
  const { expandHome } = await import('../../../src/main/service/api-handlers.js');
  assert.equal(expandHome('~/data/pets'), path.join(os.homedir(), 'data', 'pets'));
  assert.equal(expandHome('~'), os.homedir());
  assert.equal(expandHome('/abs/~x'), '/abs/~x');
  assert.equal(expandHome('sample:mnist'), 'sample:mnist');
});
