// The exported model's metadata: what this version writes (the schema), what a run starting from
// an export reads back (this version's, an old export's, a later version's), and the parameter
// counts the trainer writes, against the architectures' own counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../../../src/main/engine/models/build-model.js';
import { familyOf, modelExportMetadataSchema, ModelMetadataError, parameterCounts, readModelMetadata } from '../../../src/shared/model-export.js';
import { trainableParameters } from '../../../src/shared/model-families.js';

const settings = {
  model: 'small',
  batchSize: 8,
  epochs: 1,
  learningRate: 1e-3,
  optimizer: 'adam',
  momentum: 0.9,
  warmupSteps: 0,
  backend: 'cpu',
  seed: 1,
} as const;
const current = {
  format: 'autobatch-model',
  formatVersion: 1,
  model: 'small',
  family: 'cnn',
  classes: ['0', '1'],
  inputShape: [28, 28, 1],
  normalization: { kind: 'scale', scale: 1 / 255 },
  pixelRange: [0, 255],
  trainableParameters: 100,
  totalParameters: 100,
  runId: 4,
  datasetName: 'mnist',
  createdAt: '2026-01-02T03:04:05.678Z',
  madeWith: { settings, tuning: null },
};

test('the schema takes what the trainer writes and names what is wrong', () => {
  assert.ok(modelExportMetadataSchema.safeParse(current).success);
  const tuned = {
    ...current,
    madeWith: {
      settings: { ...settings, augment: 'light' },
      tuning: {
        sessionId: 2,
        mode: 'quick',
        recommendation: {
          batchSize: 8,
          learningRate: 1e-3,
          warmupSteps: 0,
          optimizer: 'adam',
          memoryCeiling: 64,
          expectedSamplesPerSecond: 10,
          noiseScale: null,
        },
      },
    },
  };
  assert.ok(modelExportMetadataSchema.safeParse(tuned).success);
  for (const [change, field] of [
    [{ formatVersion: 2 }, 'formatVersion'],
    [{ pixelRange: [0, 1] }, 'pixelRange'],
    [{ family: 'transformer' }, 'family'],
    [{ madeWith: { settings: { ...settings, batchSize: 0 }, tuning: null } }, 'madeWith'],
    [{ createdAt: 'yesterday' }, 'createdAt'],
  ] as const) {
    const r = modelExportMetadataSchema.safeParse({ ...current, ...change });
    assert.ok(!r.success, JSON.stringify(change));
    assert.equal(r.error.issues[0]!.path[0], field);
  }
  assert.equal(familyOf('resnet-8'), 'resnet');
  assert.equal(familyOf('imported'), null);
});

test('read back: this version, an old export without a format, a later version; a model from elsewhere is not read', () => {
  assert.deepEqual(readModelMetadata(current), {
    formatVersion: 1,
    classes: ['0', '1'],
    inputShape: [28, 28, 1],
    normalization: current.normalization,
    runId: 4,
    model: 'small',
  });
  const old = { classes: ['a', 'b'], inputShape: [28, 28, 1], normalization: { kind: 'scale', scale: 1 / 255 }, runId: 2 };
  assert.deepEqual(readModelMetadata(old), {
    formatVersion: 0,
    classes: ['a', 'b'],
    inputShape: [28, 28, 1],
    normalization: old.normalization,
    runId: 2,
    model: null,
  });
  const later = { ...current, formatVersion: 2, model: 'vision-transformer', somethingNew: { x: 1 } };
  assert.deepEqual(readModelMetadata(later), { ...readModelMetadata(current)!, formatVersion: 2, model: null });
  assert.equal(readModelMetadata(undefined), null);
  assert.equal(readModelMetadata({ author: 'someone', classes: ['x'] }), null);
  assert.throws(
    () => readModelMetadata({ ...current, classes: [] }),
    (e: unknown) => e instanceof ModelMetadataError && /^userDefinedMetadata\.classes: /.test(e.message),
  );
  assert.throws(
    () => readModelMetadata({ ...old, normalization: { kind: 'log' } }),
    (e: unknown) => e instanceof ModelMetadataError && /userDefinedMetadata\.normalization/.test(e.message),
  );
});

test('parameter counts from the weights: batch norm statistics are stored, not trained', async () => {
  await tf.setBackend('cpu');
  for (const kind of ['small', 'resnet-8', 'mobilenet-0.35'] as const) {
    const model = buildModel(kind, { inputShape: [32, 32, 3], classes: 10 }, 1);
    const counts = parameterCounts(model.weights.map((w) => ({ name: w.originalName, shape: w.shape.map((d) => d ?? 1) })));
    assert.equal(counts.trainable, trainableParameters(kind, [32, 32, 3], 10), kind);
    const all = model.weights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
    assert.equal(counts.total, all, kind);
    assert.equal(counts.total > counts.trainable, kind !== 'small', kind);
    model.dispose();
  }
});
