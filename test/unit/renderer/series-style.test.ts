// Chart series told apart by more than hue (src/renderer/lib/series-style.ts): distinct dash
// patterns, and the legend sample each series' options give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SERIES_DASHES, seriesDash, swatchOf } from '../../../src/renderer/lib/series-style.js';

test('the first six series each get a different dash pattern, the first solid; then they repeat', () => {
  const patterns = [0, 1, 2, 3, 4, 5].map((i) => JSON.stringify(seriesDash(i)));
  assert.equal(new Set(patterns).size, 6);
  assert.deepEqual(seriesDash(0), []);
  assert.deepEqual(seriesDash(SERIES_DASHES.length + 1), seriesDash(1));
  // A copy: uPlot may keep the array, and no chart may change another's pattern.
  seriesDash(1).push(99);
  assert.deepEqual(seriesDash(1), [8, 4]);
});

test('a swatch shows the line, its dash and its marker: filled, hollow or none', () => {
  assert.deepEqual(swatchOf({ stroke: '#123456', width: 2, dash: [8, 4], points: { show: true, fill: '#123456' } }), {
    stroke: '#123456',
    width: 2,
    dash: [8, 4],
    point: 'filled',
  });
  assert.equal(swatchOf({ stroke: '#123456', width: 0, points: { show: true, fill: 'transparent' } })?.point, 'hollow');
  assert.deepEqual(swatchOf({ stroke: '#123456', points: { show: false } }), { stroke: '#123456', width: 1, dash: [], point: 'none' });
  // A colour computed per draw has no fixed sample: uPlot's square stays.
  assert.equal(swatchOf({ stroke: () => '#123456' }), null);
  assert.equal(swatchOf({}), null);
});
