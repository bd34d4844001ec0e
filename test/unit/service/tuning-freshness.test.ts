// The fingerprint as the service makes it (tuning-freshness.ts): one function for the stored and
// the current side, the backend, device and torch version read from the resolver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  endedSearchFingerprint,
  fingerprintOf,
  freshnessFrom,
  tuningInput,
  unknownReason,
  type FingerprintDeps,
} from '../../../src/main/service/tuning-freshness.js';
import type { Resolution } from '../../../src/main/service/backend-resolver.js';
import type { DatasetRecord, TuningSessionRecord } from '../../../src/main/store/index.js';
import type { BackendChoice } from '../../../src/shared/run-types.js';
import { trainableParameters } from '../../../src/shared/model-families.js';
import { manifest } from '../store/helpers.js';

const dataset: DatasetRecord = {
  id: 1,
  name: 'digits',
  kind: 'idx',
  source: '/d',
  cacheDir: '/nowhere',
  createdAt: '2026-01-01',
  manifest: manifest('digits', { kind: 'idx', inputShape: [28, 28, 1], classes: ['0', '1', '2'] }),
  contentHash: 'a'.repeat(64),
};

/** A resolver that answers from a table (rung, device) and says torch `torch` for torch rungs. */
function deps(answers: Partial<Record<BackendChoice, Resolution>>, torch = '1.13.1'): FingerprintDeps {
  return {
    backends: {
      resolve: (choice: BackendChoice) => Promise.resolve(answers[choice] ?? { ok: false, message: `backend ${choice} is not available`, skipped: [] }),
      torch: () =>
        Promise.resolve({
          finding: { executable: '/usr/bin/python3', pythonVersion: '3.11', torchVersion: torch, candidates: [] },
          environment: { torch } as never,
        }),
    },
    contentHash: (d) => Promise.resolve(d.contentHash ?? 'b'.repeat(64)),
    appVersion: '0.1.0',
  };
}

const ok = (rung: Extract<Resolution, { ok: true }>['rung'], device: string | null): Resolution => ({ ok: true, rung, skipped: [], python: null, device });

function session(over: Partial<TuningSessionRecord> = {}): TuningSessionRecord {
  return {
    id: 7,
    datasetId: 1,
    datasetName: 'digits',
    model: 'small',
    mode: 'quick',
    request: {
      model: 'small',
      mode: 'quick',
      optimizer: 'adam',
      backend: 'auto',
      baseBatchSize: 32,
      baseLearningRate: 1e-3,
      plannedEpochs: 3,
      seed: 1,
      augment: 'light',
    },
    status: 'completed',
    backend: 'torch',
    rung: 'torch-cpu',
    device: 'CPU',
    budgetBytes: 1e9,
    report: null,
    error: null,
    createdAt: '2026-01-02',
    endedAt: '2026-01-02',
    searchSeconds: 1,
    fingerprint: null,
    ...over,
  };
}

test('on a torch rung the fingerprint holds the engine, the device detection names and torch’s version', async () => {
  const r = await fingerprintOf(tuningInput(session(), dataset), deps({ auto: ok('torch-cpu', 'CPU (PyTorch 1.13.1)') }));
  assert.ok(r.ok);
  assert.deepEqual(r.fingerprint, {
    model: 'small',
    parameters: trainableParameters('small', [28, 28, 1], 3),
    startModel: null,
    dataset: { id: 1, name: 'digits', contentHash: 'a'.repeat(64) },
    inputShape: [28, 28, 1],
    augment: 'light',
    engine: 'torch',
    backend: 'torch-cpu',
    device: 'CPU (PyTorch 1.13.1)',
    torchVersion: '1.13.1',
    appVersion: '0.1.0',
  });
});

test('stored at the end of a search and compared later: a torch upgrade and a backend that is gone', async () => {
  const before = deps({ auto: ok('torch-cpu', 'CPU') }, '1.13.1');
  const stored = await endedSearchFingerprint(session(), dataset, before);
  const t = session({ fingerprint: stored });
  const upgraded = await fingerprintOf(tuningInput(t, dataset), deps({ auto: ok('torch-cpu', 'CPU') }, '2.1.0'));
  assert.deepEqual(freshnessFrom(t, upgraded), {
    state: 'stale',
    changes: [{ field: 'torchVersion', text: 'torch is now version 2.1.0, was 1.13.1' }],
    reason: null,
  });
  // Another run's model and backend, where no backend answers: both said, the rest compared.
  const gone = await fingerprintOf(tuningInput(t, dataset, { backend: 'torch-cuda', augment: 'none' }), deps({}));
  assert.equal(gone.ok, false);
  assert.deepEqual(
    freshnessFrom(t, gone).changes.map((c) => c.text),
    ['the augmentation is now none, was light', 'the backend torch-cpu is not available now (backend torch-cuda is not available)'],
  );
  assert.deepEqual(freshnessFrom(t, await fingerprintOf(tuningInput(t, dataset), before)), { state: 'fresh', changes: [], reason: null });
});

test('the rung the search ran on is stored, even when its request now resolves elsewhere', async () => {
  const stored = await endedSearchFingerprint(session({ rung: 'wasm' }), dataset, deps({ auto: ok('webgpu', 'GPU'), wasm: ok('wasm', null) }));
  assert.equal(stored!.backend, 'wasm');
  assert.equal(stored!.engine, 'tfjs');
  assert.equal(stored!.torchVersion, null);
  // A search that never reached a backend measured nothing: no fingerprint.
  assert.equal(await endedSearchFingerprint(session({ rung: null }), dataset, deps({ auto: ok('wasm', null) })), null);
});

test('why a tuning without a fingerprint is unknown', () => {
  assert.match(unknownReason(session({ status: 'running', rung: null, backend: null })), /still running/);
  assert.match(unknownReason(session({ status: 'failed', rung: null, backend: null })), /ended before it measured anything/);
  assert.match(unknownReason(session()), /stored before tunings kept one/);
  assert.deepEqual(freshnessFrom(session(), { unreadable: 'x' }).state, 'unknown');
  const t = session({
    fingerprint: {
      model: 'small',
      parameters: null,
      startModel: null,
      dataset: { id: 1, name: 'd', contentHash: 'a'.repeat(64) },
      inputShape: [1],
      augment: 'none',
      engine: 'tfjs',
      backend: 'cpu',
      device: null,
      torchVersion: null,
      appVersion: '1',
    },
  });
  assert.deepEqual(freshnessFrom(t, { unreadable: 'the cache is gone' }), {
    state: 'unknown',
    changes: [],
    reason: 'fingerprint unknown now: the cache is gone',
  });
});
