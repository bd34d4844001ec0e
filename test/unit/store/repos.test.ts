import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DatasetNameTakenError, INTERRUPTED_MESSAGE, openStore, StoreError } from '../../../src/main/store/index.js';
import type { Store } from '../../../src/main/store/index.js';
import { config, manifest, raw, rmHome, tempHome } from './helpers.js';

let home: string;
let store: Store;
beforeEach(() => {
  home = tempHome();
  store = openStore(home);
});
afterEach(() => {
  store.close();
  rmHome(home);
});

const backend = { name: 'cpu', device: 'CPU, 2 threads', skipped: [{ backend: 'tensorflow', reason: 'not installed' }] };

describe('datasets', () => {
  it('inserts, lists, gets and resolves', () => {
    const iris = store.datasets.insert(manifest('iris'), '/cache/iris');
    assert.equal(iris.name, 'iris');
    assert.equal(iris.kind, 'csv');
    assert.equal(iris.source, '/data/iris.csv');
    assert.equal(iris.cacheDir, '/cache/iris');
    assert.deepEqual(iris.manifest, manifest('iris'));
    const named42 = store.datasets.insert(manifest('42'), '/cache/42');

    assert.deepEqual(store.datasets.get(iris.id), iris);
    assert.equal(store.datasets.get(999), undefined);
    assert.equal(store.datasets.resolve('iris')?.id, iris.id);
    assert.equal(store.datasets.resolve(String(iris.id))?.id, iris.id, 'digits are an id first');
    assert.equal(store.datasets.resolve('42')?.id, named42.id, 'then a name');
    assert.equal(store.datasets.resolve('nope'), undefined);
    assert.deepEqual(
      store.datasets.list().map((d) => d.name),
      ['iris', '42'],
    );
  });

  it('refuses a name clash and suggests unique names', () => {
    store.datasets.insert(manifest('iris'), '/cache/iris');
    assert.throws(
      () => store.datasets.insert(manifest('iris'), '/cache/iris-b'),
      (err: unknown) => err instanceof DatasetNameTakenError && err.message === 'a dataset named "iris" already exists',
    );
    assert.equal(store.datasets.uniqueName('mnist'), 'mnist');
    assert.equal(store.datasets.uniqueName('iris'), 'iris-2');
    store.datasets.insert(manifest('iris-2'), '/c');
    store.datasets.insert(manifest('iris-3'), '/c');
    assert.equal(store.datasets.uniqueName('iris'), 'iris-4');
  });

  it('rejects an invalid manifest before writing', () => {
    assert.throws(() => store.datasets.insert(manifest('bad', { count: -1 }), '/c'), /invalid dataset manifest: count/);
    assert.deepEqual(store.datasets.list(), []);
  });

  it('removes a dataset with its runs, but not while one is active', () => {
    const ds = store.datasets.insert(manifest('iris'), '/c');
    const run = store.runs.create({ datasetId: ds.id, config: config() });
    store.metrics.appendSteps(run.id, [step(1)]);
    store.artifacts.add({ runId: run.id, kind: 'model', path: '/a/model.json', bytes: 10 });
    assert.throws(() => store.datasets.remove(ds.id), /queued or running/);
    store.runs.finish(run.id, 'stopped');
    store.datasets.remove(ds.id);
    assert.equal(store.datasets.get(ds.id), undefined);
    assert.equal(store.runs.get(run.id), undefined);
    assert.equal(store.metrics.count(run.id), 0);
    assert.deepEqual(store.artifacts.listForRun(run.id), []);
  });
});

describe('runs', () => {
  it('goes through its lifecycle', () => {
    const ds = store.datasets.insert(manifest('iris'), '/c');
    const run = store.runs.create({ datasetId: ds.id, config: config() });
    assert.equal(run.status, 'queued');
    assert.equal(run.datasetName, 'iris');
    assert.equal(run.model, 'mlp');
    assert.deepEqual(run.config, config());
    assert.equal(run.startedAt, null);
    assert.equal(run.steps, 0);
    assert.deepEqual(run.backendSkipped, []);

    store.runs.markRunning(run.id, backend);
    let r = store.runs.get(run.id)!;
    assert.equal(r.status, 'running');
    assert.equal(r.backend, 'cpu');
    assert.equal(r.device, 'CPU, 2 threads');
    assert.deepEqual(r.backendSkipped, backend.skipped);
    assert.ok(r.startedAt);
    assert.throws(() => store.runs.markRunning(run.id, backend), /run \d+ cannot start: it is running/);

    store.runs.updateSummary(run.id, { bestValAccuracy: 0.9, steps: 10 });
    store.runs.updateSummary(run.id, { finalValAccuracy: 0.85, trainSeconds: 1.5, samplesPerSecond: 1000 });
    assert.equal(store.runs.finish(run.id, 'completed'), true);
    r = store.runs.get(run.id)!;
    assert.equal(r.status, 'completed');
    assert.ok(r.endedAt);
    assert.equal(r.error, null);
    assert.equal(r.bestValAccuracy, 0.9);
    assert.equal(r.finalValAccuracy, 0.85);
    assert.equal(r.trainSeconds, 1.5);
    assert.equal(r.samplesPerSecond, 1000);
    assert.equal(r.steps, 10);

    assert.equal(store.runs.finish(run.id, 'stopped'), false, 'already ended: unchanged');
    assert.equal(store.runs.get(run.id)!.status, 'completed');
    assert.throws(() => store.runs.finish(9999, 'failed'), /no run with id 9999/);
    assert.throws(() => store.runs.updateSummary(9999, { steps: 1 }), /no run with id 9999/);
    assert.throws(() => store.runs.create({ datasetId: 9999, config: config() }), /no dataset with id 9999/);
  });

  it('records failures and lists newest first with filters', () => {
    const a = store.datasets.insert(manifest('a'), '/c');
    const b = store.datasets.insert(manifest('b'), '/c');
    const r1 = store.runs.create({ datasetId: a.id, config: config({ model: 'small' }) });
    const r2 = store.runs.create({ datasetId: b.id, config: config() });
    const r3 = store.runs.create({ datasetId: a.id, config: config() });
    store.runs.finish(r2.id, 'failed', 'out of memory');
    assert.equal(store.runs.get(r2.id)!.error, 'out of memory');
    assert.deepEqual(
      store.runs.list().map((r) => r.id),
      [r3.id, r2.id, r1.id],
    );
    assert.deepEqual(
      store.runs.list({ datasetId: a.id }).map((r) => r.id),
      [r3.id, r1.id],
    );
    assert.deepEqual(
      store.runs.list({ status: 'failed' }).map((r) => r.id),
      [r2.id],
    );
    assert.deepEqual(
      store.runs.list({ model: 'small' }).map((r) => r.id),
      [r1.id],
    );
    assert.deepEqual(
      store.runs.list({ datasetId: a.id, model: 'mlp' }).map((r) => r.id),
      [r3.id],
    );
  });

  it('gives a clear error for a damaged JSON column', () => {
    const ds = store.datasets.insert(manifest('iris'), '/c');
    const run = store.runs.create({ datasetId: ds.id, config: config() });
    const db = raw(home);
    try {
      db.prepare('UPDATE runs SET config = ? WHERE id = ?').run('{"model": "mlp", "batch', run.id);
      assert.throws(
        () => store.runs.get(run.id),
        (err: unknown) => {
          assert.ok(err instanceof StoreError);
          assert.equal(err.code, 'corrupt');
          assert.match(err.message, new RegExp(`run ${run.id} in .*autobatch\\.db has a damaged config column \\(not valid JSON`));
          return true;
        },
      );
      db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify(config({ batchSize: 'big' as unknown as number })), run.id);
      assert.throws(() => store.runs.list(), /damaged config column \(batchSize: /);
      db.prepare('UPDATE datasets SET manifest = ? WHERE id = ?').run('[]', ds.id);
      assert.throws(
        () => store.datasets.get(ds.id),
        (err: unknown) => err instanceof StoreError && err.code === 'corrupt' && /dataset \d+ .* damaged manifest column/.test(err.message),
      );
    } finally {
      db.close();
    }
  });
});

describe('recovery', () => {
  function deadPid(): number {
    const child = spawnSync(process.execPath, ['-e', '']);
    assert.equal(child.status, 0);
    return child.pid!;
  }

  it('interrupts runs whose owner is gone and leaves live ones alone', () => {
    const ds = store.datasets.insert(manifest('iris'), '/c');
    const dead = store.runs.create({ datasetId: ds.id, config: config() });
    const deadQueued = store.runs.create({ datasetId: ds.id, config: config() });
    const elsewhere = store.runs.create({ datasetId: ds.id, config: config() });
    const live = store.runs.create({ datasetId: ds.id, config: config() });
    const liveQueued = store.runs.create({ datasetId: ds.id, config: config() });
    const done = store.runs.create({ datasetId: ds.id, config: config() });
    for (const r of [dead, elsewhere, live, done]) store.runs.markRunning(r.id, backend);
    store.runs.finish(done.id, 'completed');
    store.close();

    const pid = deadPid();
    const db = raw(home);
    db.prepare('UPDATE runs SET owner_pid = ? WHERE id IN (?, ?)').run(pid, dead.id, deadQueued.id);
    db.prepare('UPDATE runs SET owner_host = ? WHERE id = ?').run(`not-${os.hostname()}`, elsewhere.id);
    db.close();

    const noRecovery = openStore(home, { recoverInterrupted: false });
    assert.deepEqual(noRecovery.recovered, []);
    assert.equal(noRecovery.runs.get(dead.id)!.status, 'running');
    noRecovery.close();

    store = openStore(home);
    assert.deepEqual(store.recovered, [dead.id, deadQueued.id, elsewhere.id]);
    for (const id of store.recovered) {
      const r = store.runs.get(id)!;
      assert.equal(r.status, 'interrupted');
      assert.equal(r.error, INTERRUPTED_MESSAGE);
      assert.equal(r.error, 'the process running it ended unexpectedly');
      assert.ok(r.endedAt);
    }
    assert.equal(store.runs.get(live.id)!.status, 'running');
    assert.equal(store.runs.get(liveQueued.id)!.status, 'queued');
    assert.equal(store.runs.get(done.id)!.status, 'completed');
  });
});

function step(n: number, overrides: Partial<Record<string, number>> = {}) {
  return {
    step: n,
    epoch: Math.ceil(n / 10),
    time: n * 0.5,
    loss: 1 / n,
    accuracy: n / 100,
    samplesPerSecond: 1000 + n,
    stepMs: 5,
    memoryBytes: 1024,
    learningRate: 0.001,
    ...overrides,
  };
}

describe('metrics', () => {
  function newRun(): number {
    const ds = store.datasets.insert(manifest(store.datasets.uniqueName('iris')), '/c');
    return store.runs.create({ datasetId: ds.id, config: config() }).id;
  }

  it('appends and reads steps and epochs; a re-sent batch is harmless', () => {
    const run = newRun();
    const batch = [step(1), step(2), step(3, { loss: NaN })];
    store.metrics.appendSteps(run, batch);
    store.metrics.appendSteps(run, batch);
    const epoch = { epoch: 1, step: 3, time: 1.6, valLoss: 0.4, valAccuracy: 0.8, trainLoss: 0.5, trainAccuracy: 0.7 };
    store.metrics.appendEpochs(run, [epoch]);
    assert.equal(store.metrics.count(run), 3 * 6 + 4);
    assert.deepEqual(store.metrics.steps(run), batch);
    assert.ok(Number.isNaN(store.metrics.steps(run)[2]!.loss), 'NaN survives');
    assert.deepEqual(store.metrics.epochs(run), [epoch]);
    assert.deepEqual(store.metrics.series(run, 'val_accuracy'), [{ step: 3, epoch: 1, time: 1.6, value: 0.8 }]);
    assert.throws(() => store.metrics.appendSteps(9999, [step(1)]), /no run with id 9999/);
  });

  it('exports CSV, one row per step, empty where absent', () => {
    const run = newRun();
    store.metrics.appendSteps(run, [
      { step: 1, epoch: 1, time: 0.5, loss: 2, accuracy: 0.1, samplesPerSecond: 100, stepMs: 10, memoryBytes: 2048, learningRate: 0.01 },
      { step: 2, epoch: 1, time: 1, loss: 1.5, accuracy: 0.25, samplesPerSecond: 120, stepMs: 8, memoryBytes: 2048, learningRate: 0.01 },
    ]);
    store.metrics.appendEpochs(run, [{ epoch: 1, step: 2, time: 1.2, valLoss: 1.4, valAccuracy: 0.3, trainLoss: 1.7, trainAccuracy: 0.2 }]);
    assert.equal(
      store.metrics.toCsv(run),
      'step,epoch,time,loss,accuracy,samples_per_s,step_ms,memory_bytes,lr,val_loss,val_accuracy\n' +
        '1,1,0.5,2,0.1,100,10,2048,0.01,,\n' +
        '2,1,1,1.5,0.25,120,8,2048,0.01,1.4,0.3\n',
    );
    assert.equal(store.metrics.toCsv(newRun()), 'step,epoch,time,loss,accuracy,samples_per_s,step_ms,memory_bytes,lr,val_loss,val_accuracy\n');
  });

  it("down-samples a series keeping each bucket's min and max", () => {
    const run = newRun();
    const n = 1000;
    const steps = Array.from({ length: n }, (_, i) => step(i + 1, { loss: 1 + 0.001 * Math.sin(i) }));
    steps[499]!.loss = 100; // spike
    steps[699]!.loss = -5; // dip
    store.metrics.appendSteps(run, steps);

    assert.equal(store.metrics.series(run, 'loss').length, n);
    const small = store.metrics.series(run, 'loss', 50);
    assert.ok(small.length <= 50 && small.length >= 25, `got ${small.length}`);
    for (let i = 1; i < small.length; i++) assert.ok(small[i]!.step > small[i - 1]!.step, 'in step order');
    assert.ok(
      small.some((p) => p.step === 500 && p.value === 100),
      'spike kept',
    );
    assert.ok(
      small.some((p) => p.step === 700 && p.value === -5),
      'dip kept',
    );
    assert.equal(Math.max(...small.map((p) => p.value)), 100);
    assert.equal(Math.min(...small.map((p) => p.value)), -5);
    assert.ok(store.metrics.series(run, 'loss', 3).length <= 3);
    assert.deepEqual(store.metrics.series(run, 'nope', 10), []);
  });
});

describe('artifacts', () => {
  it("adds and lists a run's artifacts", () => {
    const ds = store.datasets.insert(manifest('iris'), '/c');
    const run = store.runs.create({ datasetId: ds.id, config: config() });
    const a = store.artifacts.add({ runId: run.id, kind: 'model', path: '/h/artifacts/1/model.json', bytes: 1234 });
    assert.equal(a.runId, run.id);
    assert.equal(a.kind, 'model');
    assert.equal(a.bytes, 1234);
    assert.ok(a.createdAt);
    assert.deepEqual(store.artifacts.listForRun(run.id), [a]);
    assert.deepEqual(store.artifacts.listForRun(9999), []);
    assert.throws(() => store.artifacts.add({ runId: 9999, kind: 'model', path: '/x', bytes: 1 }), /no run with id 9999/);
  });
});
