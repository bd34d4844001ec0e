// The columns behind the live charts: appends in step order, late validation points, gaps for
// non-finite values, and the redraw throttle that keeps bursts of events from freezing the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlignedSeries, throttledRedraw } from '../../../src/renderer/lib/aligned-series.js';

test('appending in step order keeps one shared x and nulls where a series has no value', () => {
  const s = new AlignedSeries(2);
  s.set(0, 1, 2.3);
  s.set(0, 2, 2.1);
  s.set(1, 2, 2.5); // validation at the last step of an epoch
  s.set(0, 3, 1.9);
  assert.deepEqual(s.data(), [
    [1, 2, 3],
    [2.3, 2.1, 1.9],
    [null, 2.5, null],
  ]);
  assert.equal(s.lastX(), 3);
});

test('a point for an x not seen yet is inserted in order; the same x is overwritten', () => {
  const s = new AlignedSeries(2);
  s.set(0, 10, 1);
  s.set(0, 30, 3);
  s.set(1, 20, 9);
  s.set(0, 10, 1.5);
  assert.deepEqual(s.x, [10, 20, 30]);
  assert.deepEqual(s.ys[0], [1.5, null, 3]);
  assert.deepEqual(s.ys[1], [null, 9, null]);
});

test('NaN and infinite values (a diverged loss) become gaps, not broken scales', () => {
  const s = new AlignedSeries(1);
  s.set(0, 1, Number.NaN);
  s.set(0, 2, Number.POSITIVE_INFINITY);
  s.set(0, 3, 0.5);
  assert.deepEqual(s.ys[0], [null, null, 0.5]);
});

test('clear empties every column in place (the chart keeps its arrays)', () => {
  const s = new AlignedSeries(2);
  const x = s.x;
  s.set(0, 1, 1);
  s.clear();
  assert.equal(s.length, 0);
  assert.equal(s.x, x);
  assert.deepEqual(s.ys, [[], []]);
});

test('throttledRedraw: a burst of requests redraws once, a later burst again', async () => {
  let redraws = 0;
  const t = throttledRedraw(() => redraws++, 40);
  for (let i = 0; i < 50; i++) t.request();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(redraws, 1, 'first request draws right away (next tick)');
  for (let i = 0; i < 50; i++) t.request();
  assert.equal(redraws, 1, 'not before the interval is over');
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(redraws, 2);
  t.request();
  t.cancel();
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(redraws, 2, 'a cancelled request does not draw');
});
