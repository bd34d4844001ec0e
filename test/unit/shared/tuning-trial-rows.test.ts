// Tunings as data (src/shared/tuning-trial-rows.ts): a session's trials as flat rows with the
// session's context, and those rows as CSV with one column per measured value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { tuningTrialRowSchema } from '../../../src/shared/api/data.js';
import type { TrialRecord } from '../../../src/shared/tuning-types.js';
import {
  measuredColumns,
  TRIAL_ROW_COLUMNS,
  tuningTrialRows,
  tuningTrialsCsv,
  tuningTrialsFileName,
  type TrialRowSession,
} from '../../../src/shared/tuning-trial-rows.js';

const session: TrialRowSession = {
  id: 4,
  status: 'completed',
  createdAt: '2026-01-02T03:04:05.000Z',
  datasetId: 2,
  datasetName: 'cats, "dogs"',
  model: 'small',
  mode: 'full',
  backend: 'torch',
  rung: 'torch-cpu',
  device: 'CPU (8 threads)',
};

const trials: TrialRecord[] = [
  { seq: 2, kind: 'memory', batchSize: 64, learningRate: null, status: 'oom', result: {}, cause: 'out of memory at batch 64', seconds: 0.4 },
  { seq: 1, kind: 'memory', batchSize: 32, learningRate: null, status: 'ok', result: { kind: 'memory', peakBytes: 1000 }, cause: null, seconds: 0.2 },
  { seq: 3, kind: 'throughput', batchSize: 32, learningRate: null, status: 'ok', result: { samplesPerSecond: 512.5 }, cause: null, seconds: 1 },
  {
    seq: 4,
    kind: 'learning-rate',
    batchSize: 32,
    learningRate: null,
    status: 'ok',
    result: { rates: [1e-4, 1e-3], losses: [2.3, 'NaN'] },
    cause: null,
    seconds: 2,
  },
  { seq: 5, kind: 'noise', batchSize: 32, learningRate: 0.001, status: 'ok', result: { noiseScale: 180.25 }, cause: null, seconds: 1.5 },
  { seq: 6, kind: 'trial', batchSize: 128, learningRate: 0.004, status: 'diverged', result: { valLoss: 'Infinity' }, cause: 'the loss grew', seconds: 6 },
  { seq: 7, kind: 'forward-memory', batchSize: 256, learningRate: null, status: 'ok', result: { kind: 'memory', peakBytes: 400 }, cause: null, seconds: 0.1 },
];

test('rows: one per trial in the order measured, each with the session around it, valid by the API schema', () => {
  const rows = tuningTrialRows(session, trials);
  assert.deepEqual(
    rows.map((r) => r.seq),
    [1, 2, 3, 4, 5, 6, 7],
  );
  for (const r of rows) {
    assert.equal(tuningTrialRowSchema.safeParse(r).success, true, JSON.stringify(r));
    assert.deepEqual(
      [r.tuningId, r.dataset, r.datasetId, r.model, r.mode, r.engine, r.backend, r.rung, r.device, r.tuningStatus],
      [4, 'cats, "dogs"', 2, 'small', 'full', 'PyTorch', 'torch', 'torch-cpu', 'CPU (8 threads)', 'completed'],
    );
  }
  assert.deepEqual(
    rows.map((r) => r.oom),
    [false, true, false, false, false, false, false],
    'oom: the status said so',
  );
  assert.equal(rows[1]!.cause, 'out of memory at batch 64');
  assert.equal(rows[4]!.learningRate, 0.001);
  // The rows are copies: changing one leaves the stored trial alone.
  rows[0]!.result.peakBytes = 1;
  assert.equal(trials[1]!.result.peakBytes, 1000);
});

test('rows: the engine follows the rung (tfjs for wasm); an old session without a rung has none', () => {
  assert.equal(tuningTrialRows({ ...session, rung: 'wasm', backend: 'wasm' }, trials)[0]!.engine, 'tfjs');
  assert.equal(tuningTrialRows({ ...session, rung: null }, trials)[0]!.engine, null);
  assert.deepEqual(tuningTrialRows(session, []), []);
});

test('measured columns: every result key in the order first met; a key named like a fixed column is prefixed', () => {
  const cols = measuredColumns(tuningTrialRows(session, trials));
  assert.deepEqual(
    cols.map((c) => c.column),
    ['result_kind', 'peakBytes', 'samplesPerSecond', 'rates', 'losses', 'noiseScale', 'valLoss'],
  );
  assert.equal(cols[0]!.key, 'kind');
});

test('CSV: the fixed columns, then the measured ones, read back by csv-parse cell for cell', () => {
  const text = tuningTrialsCsv(tuningTrialRows(session, trials));
  const [header, ...lines] = parse(text) as string[][];
  assert.deepEqual(header, [...TRIAL_ROW_COLUMNS, 'result_kind', 'peakBytes', 'samplesPerSecond', 'rates', 'losses', 'noiseScale', 'valLoss']);
  assert.equal(lines.length, trials.length);
  const cell = (line: string[], column: string) => line[header!.indexOf(column)];
  const [first, oom, throughput, ramp, noise, trial] = lines as [string[], string[], string[], string[], string[], string[]];
  assert.equal(cell(first, 'dataset'), 'cats, "dogs"', 'a name with a comma and quotes survives');
  assert.deepEqual(
    [cell(first, 'kind'), cell(first, 'peakBytes'), cell(first, 'samplesPerSecond'), cell(first, 'result_kind')],
    ['memory', '1000', '', 'memory'],
  );
  assert.deepEqual([cell(oom, 'status'), cell(oom, 'oom'), cell(oom, 'cause'), cell(oom, 'peakBytes')], ['oom', 'true', 'out of memory at batch 64', '']);
  assert.equal(cell(throughput, 'samplesPerSecond'), '512.5');
  assert.deepEqual(JSON.parse(cell(ramp, 'rates')!), [1e-4, 1e-3], 'lists as JSON in one cell');
  assert.deepEqual(JSON.parse(cell(ramp, 'losses')!), [2.3, 'NaN']);
  assert.deepEqual([cell(noise, 'learningRate'), cell(noise, 'noiseScale')], ['0.001', '180.25']);
  assert.deepEqual([cell(trial, 'status'), cell(trial, 'valLoss'), cell(trial, 'seconds')], ['diverged', 'Infinity', '6']);
  assert.equal(cell(first, 'learningRate'), '', 'no rate: an empty cell');
});

test('CSV: no trials gives the header alone', () => {
  assert.equal(tuningTrialsCsv([]), `${TRIAL_ROW_COLUMNS.join(',')}\n`);
});

test('file names: the session named, characters a file system dislikes replaced', () => {
  assert.equal(tuningTrialsFileName({ id: 4, datasetName: 'cats, "dogs"/2', model: 'small' }), 'tuning-4-cats_dogs_2-small-trials.csv');
  assert.equal(tuningTrialsFileName(null), 'tunings-trials.csv');
});
