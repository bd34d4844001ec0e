// Deleting rows: a dataset with its runs (metrics, artifacts) and tuning sessions (trials), a run,
// a tuning session — in one transaction, nothing of other datasets touched; runs that trained with
// a deleted session are kept with their link cleared.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openStore, type Store } from '../../../src/main/store/index.js';
import type { TuningRequest } from '../../../src/shared/tuning-types.js';
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

const request: TuningRequest = {
  model: 'mlp',
  mode: 'quick',
  optimizer: 'adam',
  backend: 'cpu',
  baseBatchSize: 32,
  baseLearningRate: 1e-3,
  plannedEpochs: 3,
  seed: 1,
};
const step = (n: number) => ({
  step: n,
  epoch: 1,
  time: n / 10,
  loss: 1 / n,
  accuracy: 0.5,
  samplesPerSecond: 100,
  stepMs: 10,
  memoryBytes: 1e6,
  learningRate: 1e-3,
});

/** A finished run with `steps` steps and a model artifact. */
function finishedRun(datasetId: number, steps: number, tuningSessionId?: number): number {
  const run = store.runs.create({ datasetId, config: config(), ...(tuningSessionId !== undefined ? { tuningSessionId } : {}) });
  store.metrics.appendSteps(
    run.id,
    Array.from({ length: steps }, (_, i) => step(i + 1)),
  );
  store.artifacts.add({ runId: run.id, kind: 'model', path: `/home/artifacts/run-${run.id}/model`, bytes: 100 });
  store.runs.finish(run.id, 'completed');
  return run.id;
}

function finishedSession(datasetId: number, trials: number): number {
  const s = store.tuning.create(datasetId, request);
  for (let seq = 1; seq <= trials; seq++)
    store.tuning.addTrial(s.id, { seq, kind: 'throughput', batchSize: 2 ** seq, learningRate: null, status: 'ok', result: {}, cause: null, seconds: 0.1 });
  store.tuning.finish(s.id, 'stopped', {});
  return s.id;
}

function counts(): Record<string, number> {
  const db = raw(home);
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

/** Two datasets, each with runs and a session; a run of `other` trained with a session of `iris`. */
function fixture() {
  const iris = store.datasets.insert(manifest('iris'), '/home/datasets/iris-1');
  const other = store.datasets.insert(manifest('other'), '/home/datasets/other-1');
  const irisSession = finishedSession(iris.id, 3);
  const irisRuns = [finishedRun(iris.id, 4), finishedRun(iris.id, 2, irisSession)];
  const otherSession = finishedSession(other.id, 2);
  const otherRun = finishedRun(other.id, 5, otherSession);
  // Trains on `other` with the recommendation of iris's session.
  const crossRun = finishedRun(other.id, 1, irisSession);
  return { iris, other, irisSession, irisRuns, otherSession, otherRun, crossRun };
}

describe('removal', () => {
  it('plans a dataset deletion without changing anything', () => {
    const f = fixture();
    const before = counts();
    const plan = store.removal.plan({ kind: 'dataset', id: f.iris.id })!;
    assert.deepEqual(plan.datasets, [{ id: f.iris.id, name: 'iris', cacheDir: '/home/datasets/iris-1' }]);
    assert.deepEqual(
      plan.runs.map((r) => [r.id, r.status, r.artifactPaths]),
      f.irisRuns.map((id) => [id, 'completed', [`/home/artifacts/run-${id}/model`]]),
    );
    assert.deepEqual(
      plan.sessions.map((s) => s.id),
      [f.irisSession],
    );
    assert.deepEqual(
      plan.unlinkedRuns.map((r) => [r.id, r.tuningSessionId]),
      [[f.crossRun, f.irisSession]],
    );
    assert.equal(plan.metricRows, store.metrics.count(f.irisRuns[0]!) + store.metrics.count(f.irisRuns[1]!));
    assert.ok(plan.metricRows > 0);
    assert.equal(plan.artifacts, 2);
    assert.equal(plan.trials, 3);
    assert.deepEqual(counts(), before);
    assert.equal(store.removal.plan({ kind: 'dataset', id: 999 }), undefined);
    assert.equal(store.removal.plan({ kind: 'run', id: 999 }), undefined);
    assert.equal(store.removal.plan({ kind: 'tuning', id: 999 }), undefined);
  });

  it('deletes a dataset with its runs and sessions; other datasets keep theirs, a run trained with its session is unlinked', () => {
    const f = fixture();
    const otherMetrics = store.metrics.count(f.otherRun);
    const done = store.removal.remove({ kind: 'dataset', id: f.iris.id });
    assert.equal(done.runs.length, 2);
    assert.equal(store.datasets.get(f.iris.id), undefined);
    for (const id of f.irisRuns) {
      assert.equal(store.runs.get(id), undefined);
      assert.equal(store.metrics.count(id), 0);
      assert.deepEqual(store.artifacts.listForRun(id), []);
    }
    assert.equal(store.tuning.get(f.irisSession), undefined);
    assert.deepEqual(store.tuning.trials(f.irisSession), []);
    // The other dataset is whole.
    assert.equal(store.datasets.get(f.other.id)?.name, 'other');
    assert.equal(store.runs.get(f.otherRun)?.tuningSessionId, f.otherSession);
    assert.equal(store.metrics.count(f.otherRun), otherMetrics);
    assert.equal(store.tuning.trials(f.otherSession).length, 2);
    assert.equal(store.artifacts.listForRun(f.otherRun).length, 1);
    // The cross run is kept, its link cleared.
    assert.equal(store.runs.get(f.crossRun)?.tuningSessionId, null);
    const metrics = store.metrics.count(f.otherRun) + store.metrics.count(f.crossRun);
    assert.deepEqual(counts(), { datasets: 1, runs: 2, metrics, artifacts: 2, tuning_sessions: 1, tuning_trials: 2 });
  });

  it('deletes a run with its metrics and artifacts only', () => {
    const f = fixture();
    const [gone, kept] = f.irisRuns as [number, number];
    const keptMetrics = store.metrics.count(kept);
    const done = store.removal.remove({ kind: 'run', id: gone });
    assert.deepEqual(
      done.runs.map((r) => r.id),
      [gone],
    );
    assert.deepEqual(done.sessions, []);
    assert.equal(store.runs.get(gone), undefined);
    assert.equal(store.metrics.count(gone), 0);
    assert.deepEqual(store.artifacts.listForRun(gone), []);
    assert.equal(store.metrics.count(kept), keptMetrics);
    assert.ok(store.datasets.get(f.iris.id));
    assert.ok(store.tuning.get(f.irisSession));
  });

  it('deletes a tuning session with its trials; the runs trained with it are kept, unlinked', () => {
    const f = fixture();
    const done = store.removal.remove({ kind: 'tuning', id: f.irisSession });
    assert.deepEqual(done.unlinkedRuns.map((r) => r.id).sort(), [f.irisRuns[1]!, f.crossRun].sort());
    assert.equal(done.trials, 3);
    assert.equal(store.tuning.get(f.irisSession), undefined);
    assert.deepEqual(store.tuning.trials(f.irisSession), []);
    for (const id of [f.irisRuns[1]!, f.crossRun]) {
      const run = store.runs.get(id)!;
      assert.equal(run.tuningSessionId, null);
      assert.equal(run.status, 'completed');
      assert.ok(store.metrics.count(id) > 0);
    }
    assert.equal(store.tuning.trials(f.otherSession).length, 2);
  });

  it('a veto inside the transaction deletes nothing; an unknown target throws', () => {
    const f = fixture();
    const before = counts();
    assert.throws(
      () =>
        store.removal.remove({ kind: 'dataset', id: f.iris.id }, (plan) => {
          assert.equal(plan.runs.length, 2);
          throw new Error('a run started meanwhile');
        }),
      /a run started meanwhile/,
    );
    assert.deepEqual(counts(), before);
    assert.throws(() => store.removal.remove({ kind: 'run', id: 999 }), /no run with id 999/);
    assert.deepEqual(counts(), before);
  });
});
