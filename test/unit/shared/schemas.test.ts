import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainConfigSchema } from '../../../src/shared/schemas.js';
import { describeSchemaError } from '../../../src/shared/schema-errors.js';
import { hostMessageSchema, trainerMessageSchema } from '../../../src/shared/trainer-protocol.js';

const config = { model: 'small', batchSize: 32, epochs: 1, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'wasm', seed: 1 };

test('a valid train config passes', () => {
  assert.equal(trainConfigSchema.safeParse(config).success, true);
});

test('bad fields are named', () => {
  const r = trainConfigSchema.safeParse({ ...config, batchSize: 0, model: 'huge', extra: 1 });
  assert.equal(r.success, false);
  const text = describeSchemaError(r.error!);
  assert.match(text, /batchSize/);
  assert.match(text, /model/);
});

test('host messages: unknown types and bad jobs are rejected', () => {
  assert.equal(hostMessageSchema.safeParse({ type: 'stop' }).success, true);
  assert.equal(hostMessageSchema.safeParse({ type: 'explode' }).success, false);
  assert.equal(hostMessageSchema.safeParse({ type: 'start', job: { kind: 'train', runId: 1, datasetDir: '/x', config: { ...config, lr: 1 } } }).success, false);
  assert.equal(hostMessageSchema.safeParse({ type: 'start', job: { kind: 'train', runId: 1, datasetDir: '/x', config } }).success, true);
});

test('trainer messages keep a NaN loss but reject a NaN accuracy', () => {
  const step = { step: 1, epoch: 1, time: 0, loss: NaN, accuracy: 0.1, samplesPerSecond: 1, stepMs: 1, memoryBytes: 0, learningRate: 0.1 };
  assert.equal(trainerMessageSchema.safeParse({ type: 'metrics', steps: [step], epochs: [] }).success, true);
  assert.equal(trainerMessageSchema.safeParse({ type: 'metrics', steps: [{ ...step, accuracy: NaN }], epochs: [] }).success, false);
});
