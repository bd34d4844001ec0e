// What the delete dialogs say, from a dry run's counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deletion } from '../../../src/shared/api/data.js';
import { deleteConsequences, deletedText, deleteQuestion } from '../../../src/shared/api/deletion-text.js';

const none: Deletion = {
  dryRun: true,
  inUse: null,
  datasets: 0,
  runs: 0,
  tunings: 0,
  runIds: [],
  sessionIds: [],
  metricRows: 0,
  trials: 0,
  artifacts: 0,
  unlinkedRunIds: [],
  bytes: 0,
  leftOver: [],
};
const mnist = { kind: 'dataset', id: 1, name: 'mnist' } as const;

test('a dataset: its runs and tuning sessions, what is kept, the space freed', () => {
  assert.equal(deleteQuestion(mnist), 'Delete dataset "mnist"?');
  const d = { ...none, datasets: 1, runs: 3, tunings: 2, bytes: 12.4 * 2 ** 20 };
  assert.deepEqual(deleteConsequences(mnist, d), [
    'Its 3 runs (with their models and metrics) and 2 tuning sessions are deleted too.',
    'The files it was imported from are not touched.',
    '12.4 MiB are freed.',
  ]);
  assert.deepEqual(deleteConsequences(mnist, { ...d, runs: 1, tunings: 0, unlinkedRunIds: [7] }), [
    'Its run (with its model and metrics) is deleted too.',
    'Run 7 of another dataset, trained with one of its tuning sessions, is kept.',
    'The files it was imported from are not touched.',
    '12.4 MiB are freed.',
  ]);
  assert.deepEqual(deleteConsequences(mnist, { ...none, tunings: 1, unlinkedRunIds: [4, 7, 9] }), [
    'Its tuning session is deleted too.',
    'Runs 4, 7 and 9 of other datasets, trained with its tuning sessions, are kept.',
    'The files it was imported from are not touched.',
  ]);
  assert.equal(deleteConsequences(mnist, none)[0], 'It has no runs or tuning sessions.');
  assert.equal(deletedText(mnist, d), 'Deleted dataset "mnist" with its 3 runs and 2 tuning sessions; 12.4 MiB freed.');
});

test('a run: its metrics and model', () => {
  const run = { kind: 'run', id: 4 } as const;
  assert.equal(deleteQuestion(run), 'Delete run 4?');
  const d = { ...none, runs: 1, runIds: [4], metricRows: 1234, artifacts: 1, bytes: 2048 };
  assert.deepEqual(deleteConsequences(run, d), ['Its 1,234 stored metric values and its model are deleted too.', '2.00 KiB are freed.']);
  assert.deepEqual(deleteConsequences(run, { ...d, artifacts: 0, bytes: 0 }), ['Its 1,234 stored metric values are deleted too.']);
  assert.deepEqual(deleteConsequences(run, { ...none, runs: 1 }), ['It has no stored metrics or model.']);
  assert.equal(deletedText(run, d), 'Deleted run 4; 2.00 KiB freed.');
  assert.equal(
    deletedText(run, { ...d, leftOver: ['/x/.deleting-1-a-run-4'] }),
    'Deleted run 4; 2.00 KiB freed. 1 file could not be removed yet; AutoBatch Studio removes it when it next starts.',
  );
});

test('a tuning session: its measurements; the runs trained with it are kept', () => {
  const t = { kind: 'tuning', id: 3 } as const;
  assert.equal(deleteQuestion(t), 'Delete tuning session 3?');
  assert.deepEqual(deleteConsequences(t, { ...none, tunings: 1, trials: 25, unlinkedRunIds: [4, 7] }), [
    'Its 25 measurements are deleted too.',
    'Runs 4 and 7, trained with its recommendation, are kept (their settings say what they trained with).',
  ]);
  assert.deepEqual(deleteConsequences(t, { ...none, tunings: 1, trials: 1, unlinkedRunIds: [4] }), [
    'Its 1 measurement is deleted too.',
    'Run 4, trained with its recommendation, is kept (its settings say what it trained with).',
  ]);
  assert.equal(deletedText(t, { ...none, tunings: 1 }), 'Deleted tuning session 3.');
});
