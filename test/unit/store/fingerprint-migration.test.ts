// Migration 5 (issue 20): a version-4 database with tunings gains the fingerprint and content-hash
// columns without losing a row, and its old tunings read as "fingerprint unknown" — never fresh
// or stale by guess.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, openStore } from '../../../src/main/store/index.js';
import { migrate } from '../../../src/main/store/migrations.js';
import { freshnessFrom } from '../../../src/main/service/tuning-freshness.js';
import { NO_FINGERPRINT_REASON, type TuningFingerprint } from '../../../src/shared/tuning-fingerprint.js';
import { manifest, raw, rmHome, tempHome } from './helpers.js';

const REQUEST = { model: 'mlp', mode: 'quick', optimizer: 'adam', backend: 'cpu', baseBatchSize: 32, baseLearningRate: 1e-3, plannedEpochs: 3, seed: 1 };
const REPORT = { recommendation: { batchSize: 64, learningRate: 2e-3 }, reasons: ['fits'], curves: [{ batchSize: 64 }] };

/** A data folder as version 4 of the app left it: one dataset, a completed tuning and a failed one. */
function version4Home(): string {
  const home = tempHome();
  const file = path.join(home, 'autobatch.db');
  const db = new Database(file);
  try {
    assert.equal(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 4),
        file,
      ),
      4,
    );
    db.prepare(
      "INSERT INTO datasets (id, name, kind, source, cache_dir, manifest, created_at) VALUES (1, 'iris', 'csv', '/data/iris.csv', '/cache/iris', ?, '2026-01-01')",
    ).run(JSON.stringify(manifest('iris')));
    const insert = db.prepare(
      "INSERT INTO tuning_sessions (id, dataset_id, model, mode, request, status, backend, rung, device, report, created_at) VALUES (?, 1, 'mlp', 'quick', ?, ?, 'cpu', 'cpu', 'CPU', ?, '2026-01-02')",
    );
    insert.run(1, JSON.stringify(REQUEST), 'completed', JSON.stringify(REPORT));
    insert.run(2, JSON.stringify(REQUEST), 'failed', null);
  } finally {
    db.close();
  }
  return home;
}

test('a version-4 database with tunings migrates; its tunings keep everything and have no fingerprint', () => {
  const home = version4Home();
  const store = openStore(home);
  try {
    assert.equal(store.schemaVersion, MIGRATIONS[MIGRATIONS.length - 1]!.version);
    const [failed, completed] = store.tuning.list();
    assert.equal(completed!.id, 1);
    assert.equal(completed!.report!.recommendation.batchSize, 64);
    assert.equal(completed!.rung, 'cpu');
    assert.equal(completed!.fingerprint, null);
    assert.equal(failed!.fingerprint, null);
    assert.equal(store.datasets.get(1)!.contentHash, null);
    assert.equal(store.datasets.get(1)!.manifest.name, 'iris');

    // Unknown, whatever this machine says now: never fresh or stale by guess.
    const unknown = { state: 'unknown', changes: [], reason: NO_FINGERPRINT_REASON };
    assert.deepEqual(freshnessFrom(completed!, { unreadable: 'no cache' }), unknown);
    const anyCurrent: TuningFingerprint = {
      model: 'mlp',
      parameters: 1,
      startModel: null,
      dataset: { id: 1, name: 'iris', contentHash: 'f'.repeat(64) },
      inputShape: [4],
      augment: 'none',
      engine: 'tfjs',
      backend: 'wasm',
      device: null,
      torchVersion: null,
      appVersion: '9.9.9',
    };
    assert.deepEqual(freshnessFrom(completed!, { ok: true, fingerprint: anyCurrent }), unknown);

    // A fingerprint stored now reads back; the dataset's hash is kept once computed.
    store.tuning.setFingerprint(1, { ...anyCurrent, backend: 'cpu' });
    assert.deepEqual(store.tuning.get(1)!.fingerprint, { ...anyCurrent, backend: 'cpu' });
    store.datasets.setContentHash(1, 'a'.repeat(64));
    assert.equal(store.datasets.get(1)!.contentHash, 'a'.repeat(64));
    assert.throws(() => store.datasets.setContentHash(1, 'not a hash'), /invalid dataset content hash: .*sha256/);
    assert.throws(() => store.tuning.setFingerprint(1, { ...anyCurrent, inputShape: [] }), /invalid fingerprint of tuning session 1: .*inputShape/);
  } finally {
    store.close();
    rmHome(home);
  }
});

test('a stored fingerprint in a shape this app does not know reads as none, not as a broken row', () => {
  const home = version4Home();
  openStore(home).close();
  const db = raw(home);
  db.prepare('UPDATE tuning_sessions SET fingerprint = \'{"model": 3}\' WHERE id = 1').run();
  db.prepare("UPDATE tuning_sessions SET fingerprint = 'not json' WHERE id = 2").run();
  db.close();
  const store = openStore(home);
  try {
    assert.deepEqual(
      store.tuning.list().map((t) => [t.id, t.fingerprint]),
      [
        [2, null],
        [1, null],
      ],
    );
  } finally {
    store.close();
    rmHome(home);
  }
});
