// The search's time allowance as pure rules: the planned run's time, the order probes are given
// up in, shortening before skipping, and the durations the CLI and the app accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CUT_ORDER, fitProbes, parseDuration, plannedRunSeconds, SEARCH_SHARE } from '../../../src/shared/search-budget.js';

test('the planned run: epochs over the training set at the measured speed, plus one validation pass an epoch at 3× that', () => {
  assert.equal(plannedRunSeconds({ epochs: 10, trainCount: 8000, validationCount: 1200, samplesPerSecond: 4000 }), 10 * (2 + 0.1));
  assert.equal(SEARCH_SHARE.quick, 0.05);
  assert.equal(SEARCH_SHARE.full, 0.15);
});

test('probes are given up in CUT_ORDER: shortened to their least where that is enough, else skipped', () => {
  const wanted = [
    { probe: 'throughput' as const, seconds: 1, minSeconds: 0.4 },
    { probe: 'range-test' as const, seconds: 0.5 },
    { probe: 'second-ramp' as const, seconds: 0.5 },
    { probe: 'noise' as const, seconds: 2 },
    { probe: 'trials' as const, seconds: 3, minSeconds: 1 },
  ];
  // Everything fits: nothing cut.
  assert.deepEqual(fitProbes(10, wanted).cuts, []);
  // 1 s over: the trials lose it.
  const a = fitProbes(6, wanted);
  assert.deepEqual(a.cuts, [{ probe: 'trials', how: 'shortened', wanted: 3, granted: 2 }]);
  assert.equal(a.granted.get('noise'), 2);
  // 3 s over: the trials cannot shed that (least 1 s), so they go, and the noise probe is kept.
  const b = fitProbes(4, wanted);
  assert.deepEqual(
    b.cuts.map((c) => `${c.probe} ${c.how}`),
    ['trials skipped'],
  );
  // 5 s over: the noise probe goes too.
  assert.deepEqual(
    fitProbes(2, wanted).cuts.map((c) => `${c.probe} ${c.how}`),
    ['trials skipped', 'noise skipped'],
  );
  // Then the second ramp, the range test, and the throughput is shortened, then skipped.
  assert.deepEqual(
    fitProbes(0.5, wanted).cuts.map((c) => `${c.probe} ${c.how}`),
    ['trials skipped', 'noise skipped', 'second-ramp skipped', 'range-test skipped', 'throughput shortened'],
  );
  assert.ok(Math.abs(fitProbes(0.5, wanted).granted.get('throughput')! - 0.5) < 1e-12);
  assert.deepEqual(
    fitProbes(-1, wanted).cuts.map((c) => `${c.probe} ${c.how}`),
    CUT_ORDER.filter((p) => p !== 'late-noise' && p !== 'eval-batch').map((p) => `${p} skipped`),
  );
  // A probe not wanted is not cut.
  assert.deepEqual(
    fitProbes(0, [{ probe: 'range-test', seconds: 1 }]).cuts.map((c) => c.probe),
    ['range-test'],
  );
});

test('durations: 90s, 10m, 1h30m, 1.5h and bare seconds; anything else is not one', () => {
  assert.equal(parseDuration('90s'), 90);
  assert.equal(parseDuration('10m'), 600);
  assert.equal(parseDuration('1h30m'), 5400);
  assert.equal(parseDuration('1.5h'), 5400);
  assert.equal(parseDuration(' 2m 30s '), 150);
  assert.equal(parseDuration('45'), 45);
  for (const bad of ['', 'm', '10 minutes', '-5m', '1h30', 'ten', '5x']) assert.equal(parseDuration(bad), null, bad);
});
