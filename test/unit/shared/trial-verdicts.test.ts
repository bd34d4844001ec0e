// The validation trials' verdicts (docs/architecture.md §5.9): divergence, oscillation, 'worse',
// and when a flagged choice steps down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAfterTrials, flagWorseTrials, judgeTrial, type JudgedTrial } from '../../../src/shared/trial-verdicts.js';

const falling = Array.from({ length: 20 }, (_, i) => 2 * 0.9 ** i);

test('judgeTrial: a non-finite loss or a rising one diverged; a swing without falling oscillates; a fall is fine', () => {
  assert.deepEqual(judgeTrial({ losses: falling, valLoss: 0.4 }), { status: 'ok', why: '' });
  assert.deepEqual(judgeTrial({ losses: [2, 1.5, Infinity], valLoss: NaN }), { status: 'diverged', why: 'the loss became NaN or infinite' });
  assert.equal(judgeTrial({ losses: falling, valLoss: NaN }).status, 'diverged');
  // Without a validation split the validation loss is NaN by design: only the training loss counts.
  assert.deepEqual(judgeTrial({ losses: falling, valLoss: NaN }, false), { status: 'ok', why: '' });
  assert.equal(judgeTrial({ losses: [2, NaN], valLoss: NaN }, false).status, 'diverged');
  const rising = judgeTrial({ losses: [1, 1, 1, 1, 2, 2, 2, 2], valLoss: 1 });
  assert.deepEqual(rising, { status: 'diverged', why: 'the loss rose from 1.000 to 2.000' });
  const swing = judgeTrial({ losses: Array.from({ length: 20 }, (_, i) => (i % 2 ? 2.5 : 0.5)), valLoss: 1 });
  assert.equal(swing.status, 'oscillating');
  assert.match(swing.why, /^the loss swings by ±67 % without falling$/);
  // A swing that still falls is noise, not oscillation.
  assert.equal(judgeTrial({ losses: Array.from({ length: 20 }, (_, i) => (i % 2 ? 1.2 : 0.8) * 0.9 ** i), valLoss: 1 }).status, 'ok');
  assert.equal(judgeTrial({ losses: [3, 1], valLoss: 1 }).status, 'ok', 'too short to judge a trend');
});

const trial = (batchSize: number, valLoss: number, status: JudgedTrial['status'] = 'ok', why = ''): JudgedTrial => ({ batchSize, valLoss, status, why });

test('flagWorseTrials: ok trials over 10 % above the best are flagged worse; flagged ones keep their flag', () => {
  const trials = [trial(64, 0.5), trial(32, 0.45), trial(128, 0.6, 'diverged', 'x'), trial(16, Infinity, 'crashed')];
  const { minLoss, flagged } = flagWorseTrials(trials);
  assert.equal(minLoss, 0.45);
  assert.deepEqual(
    flagged.map((t) => t.batchSize),
    [64],
  );
  assert.deepEqual(
    trials.map((t) => t.status),
    ['worse', 'ok', 'diverged', 'crashed'],
  );
  assert.equal(trials[0]!.why, "validation loss 0.500 is over 10 % worse than the best trial's 0.450");
  assert.deepEqual(flagWorseTrials([trial(8, Infinity, 'crashed')]), { minLoss: Infinity, flagged: [] });
});

test('decideAfterTrials: only a badly flagged choice steps down, to the best unflagged trial', () => {
  assert.deepEqual(decideAfterTrials([trial(64, 0.5), trial(32, 0.48)], 64, 0.48), { action: 'keep' });
  assert.deepEqual(decideAfterTrials([trial(64, 0.6, 'worse'), trial(32, 0.5)], 64, 0.5), { action: 'keep-worse' });
  assert.deepEqual(decideAfterTrials([trial(64, 0.8, 'worse', 'w'), trial(32, 0.5), trial(128, 0.9, 'worse')], 64, 0.5), {
    action: 'step-down',
    to: 32,
    why: 'w',
  });
  for (const status of ['diverged', 'oscillating', 'crashed'] as const) {
    const d = decideAfterTrials([trial(64, Infinity, status, 'bad'), trial(32, 0.7), trial(128, 0.6)], 64, 0.6);
    assert.deepEqual(d, { action: 'step-down', to: 128, why: 'bad' }, status);
  }
  assert.deepEqual(decideAfterTrials([trial(64, Infinity, 'diverged'), trial(32, Infinity, 'crashed')], 64, Infinity), { action: 'keep-flagged' });
  assert.throws(() => decideAfterTrials([trial(32, 0.5)], 64, 0.5), /no trial at the chosen batch 64/);
});
