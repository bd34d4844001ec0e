// The ceiling search against simulated devices whose true memory curve is known: it must find
// ≥ 90 % of the largest batch that really fits, within 8 verification steps after the fit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CeilingSearch, startCeilingSearch } from '../../../src/shared/ceiling-search.js';
import { fitLine } from '../../../src/shared/tuner-math.js';

function search(memory: (b: number) => number, budget: number, cap = 1 << 20) {
  const small = [1, 2, 4, 8, 16];
  const fit = fitLine(small, small.map(memory));
  const s = new CeilingSearch({ budgetBytes: budget, fit, largestFitted: 16, cap });
  for (let b = s.next(); b !== undefined; b = s.next()) s.report(b, memory(b) <= budget);
  let truth = 16;
  while (memory(truth + 1) <= budget && truth < cap) truth++;
  return { result: s.result(), truth };
}

const cases: [string, (b: number) => number, number][] = [
  ['linear, as fitted', (b) => 5e6 + 3e5 * b, 2e9],
  ['fixed cost dominates small batches', (b) => 4e8 + 1e5 * b, 1e9],
  ['grows faster than linear (workspace kicks in)', (b) => 5e6 + 3e5 * b + 200 * b * b, 2e9],
  ['grows slower than linear (allocator reuse)', (b) => 5e6 + 3e5 * Math.pow(b, 0.8) * 1.8, 2e9],
  ['allocator rounds up to 2 MiB pages', (b) => Math.ceil((1e6 + 2.5e5 * b) / 2 ** 21) * 2 ** 21, 3e9],
];

for (const [name, memory, budget] of cases) {
  test(`ceiling within 90 % in ≤ 8 steps: ${name}`, () => {
    const { result, truth } = search(memory, budget);
    assert.ok(result.steps <= 8, `${result.steps} steps`);
    assert.ok(result.ceiling >= 0.9 * truth, `found ${result.ceiling}, truth ${truth}`);
    assert.ok(result.ceiling <= truth, `found ${result.ceiling} does not fit (truth ${truth})`);
  });
}

test('when everything up to the cap fits, the cap is the ceiling after one check', () => {
  const { result } = search((b) => 1e6 + 1e3 * b, 1e12, 256);
  assert.equal(result.ceiling, 256);
  assert.equal(result.steps, 1);
  assert.equal(result.cappedByDataset, true);
});

test('startCeilingSearch: the line through the small probes that fitted; a failure below the largest fit is no bound', () => {
  const reading = (b: number, fits = true) => ({
    batchSize: b,
    fits,
    ...(fits ? { peakBytes: 1e6 + 1e4 * b, gradientBytes: 1e6 + 1e4 * b, updateBytes: 3e6 } : {}),
  });
  assert.equal(startCeilingSearch([reading(1, false), reading(2, false)], 5e6, 1000), null);
  const start = startCeilingSearch([reading(1), reading(2, false), reading(4), reading(8), reading(16)], 5e6, 1000)!;
  assert.ok(Math.abs(start.model.fit.b - 1e4) < 1e-6);
  assert.equal(start.model.updateFloor, 3e6);
  assert.equal(start.search.next(), Math.floor(400 * 0.97), 'it aims under the prediction, not between 2 and 16');
  const bounded = startCeilingSearch([reading(1), reading(2), reading(4), reading(8, false), reading(16, false)], 5e6, 1000)!;
  assert.deepEqual([bounded.search.result().largestFitted, bounded.search.result().smallestFailed], [4, 8]);
  assert.equal(bounded.search.next(), 6, 'it bisects between the last that fitted and the first that did not');
});
