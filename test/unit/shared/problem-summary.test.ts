// The one-line summary of an import's problems that the CLI and the app share: it counts the
// problems listed and, apart, the inputs left out (an empty class folder is a problem, no input).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moreProblems, problemSummary, problemTotal } from '../../../src/shared/problem-summary.js';

test('problems and inputs left out are counted apart, in the unit of the dataset', () => {
  assert.equal(problemSummary('image-folder', 4, 3), '4 problems found; 3 files were left out');
  assert.equal(problemSummary('csv', 1, 1), '1 problem found; 1 row was left out');
  assert.equal(problemSummary('idx', 1, 999), '1 problem found; 999 samples were left out');
  assert.equal(problemSummary('csv', 1500, 1500), '1,500 problems found; 1,500 rows were left out');
  assert.equal(problemSummary('image-folder', 1, 0), '1 problem found', 'an empty class folder alone leaves no input out');
});

test('a list cut short counts the problems its closing entry stands for', () => {
  const listed = [
    { file: 'a.png', reason: 'corrupt PNG' },
    { file: 'b.png', reason: 'corrupt PNG' },
  ];
  assert.equal(problemTotal([]), 0);
  assert.equal(problemTotal(listed), 2);
  assert.deepEqual(moreProblems(1), { file: '', reason: 'and 1 more problem not listed' });
  assert.equal(problemTotal([...listed, moreProblems(1)]), 3);
  assert.equal(problemTotal([...listed, moreProblems(498)]), 500);
  // Only a closing entry counts more than one: a problem about no file is one problem.
  assert.equal(problemTotal([...listed, { file: '', reason: 'only 1 usable class' }]), 3);
});
