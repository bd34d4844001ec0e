// A run's events in words and as chart marks (the run page and the Train screen).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventMarks, eventText, resumeLabel } from '../../../src/renderer/lib/run-events.js';
import type { RunEvent } from '../../../src/shared/run-events.js';

const resumed: RunEvent = {
  kind: 'resumed',
  step: 1200,
  time: 30,
  attempt: 2,
  createdAt: '',
  checkpoint: 'epoch',
  previousStatus: 'interrupted',
  discardedSteps: 37,
};
const reduced: RunEvent = {
  kind: 'batch-reduced',
  step: 0,
  time: 0,
  attempt: 3,
  createdAt: '',
  checkpoint: null,
  discardedSteps: 1,
  batch: 'training',
  fromBatch: 64,
  toBatch: 48,
  fromRate: 0.004,
  toRate: 0.0034641016,
  cause: 'a training step: out of memory',
};

test('each event in one sentence: where it went on from, what changed, what was redone', () => {
  assert.equal(eventText(resumed), 'Attempt 2 resumed at step 1,200 (the epoch-end checkpoint) after the run interrupted; 37 steps after it redone.');
  assert.equal(
    eventText(reduced),
    'Out of memory (a training step: out of memory): attempt 3 resumed at the start (no checkpoint yet) with batch 64 → 48 and learning rate 0.004 → 0.00346; 1 step after it redone.',
  );
  assert.match(eventText({ ...reduced, batch: 'evaluation', fromBatch: 200, toBatch: 100 }), /with the evaluation batch 200 → 100;/);
});

test('chart marks at the steps each attempt began; the resume label', () => {
  assert.deepEqual(eventMarks([resumed, reduced]), [
    { step: 1200, label: 'resumed (2)' },
    { step: 0, label: 'batch 64→48' },
  ]);
  assert.equal(resumeLabel({ step: 1200, reason: 'stop' }), 'stop checkpoint at step 1,200');
});

test('a micro-batch step-down in words and as a mark', () => {
  const e = {
    kind: 'batch-reduced',
    step: 120,
    time: 30,
    attempt: 2,
    createdAt: '2026-12-01T00:00:00.000Z',
    checkpoint: 'timer',
    discardedSteps: 0,
    batch: 'micro',
    fromBatch: 64,
    toBatch: 48,
    fromRate: 0.004,
    toRate: 0.004,
    cause: 'a training step: out of memory',
  } as const;
  assert.equal(
    eventText(e),
    'Out of memory (a training step: out of memory): attempt 2 resumed at step 120 (the timed checkpoint) with micro-batch 64 → 48 (the effective batch and its learning rate kept).',
  );
  assert.deepEqual(eventMarks([e]), [{ step: 120, label: 'micro-batch 64→48' }]);
});
