import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duration, imageSize, oneOf, positiveNumber, wholeNumber } from '../../../src/main/cli/parse-flags.js';

test('whole numbers: range and form are checked', () => {
  assert.equal(wholeNumber(1)('32'), 32);
  assert.throws(() => wholeNumber(1)('0'), /from 1 up, got "0"/);
  assert.throws(() => wholeNumber(1)('3.5'), /whole number/);
  assert.throws(() => wholeNumber(1)('abc'), /got "abc"/);
  assert.throws(() => wholeNumber(1, 10)('11'), /from 1 to 10/);
  assert.throws(() => wholeNumber(1)('1e3'), /whole number/);
});

test('positive numbers', () => {
  assert.equal(positiveNumber()('1e-3'), 0.001);
  assert.throws(() => positiveNumber()('-1'), /above 0/);
  assert.throws(() => positiveNumber()(''), /above 0/);
  assert.throws(() => positiveNumber(1)('1'), /below 1/);
  assert.throws(() => positiveNumber()('NaN'), /above 0/);
});

test('image sizes', () => {
  assert.deepEqual(imageSize('28x28'), [28, 28]);
  assert.deepEqual(imageSize('32×24'), [32, 24]);
  assert.deepEqual(imageSize('64'), [64, 64]);
  assert.throws(() => imageSize('2x2'), /between 4x4/);
  assert.throws(() => imageSize('axb'), /HxW/);
});

test('choices', () => {
  assert.equal(oneOf(['small', 'large'] as const)('large'), 'large');
  assert.throws(() => oneOf(['small', 'large'] as const)('huge'), /one of small, large, got "huge"/);
});

test('durations (--budget): a time written out, or seconds; zero, negatives and words are refused with what is expected', () => {
  assert.equal(duration('10m'), 600);
  assert.equal(duration('1h30m'), 5400);
  assert.equal(duration('45'), 45);
  for (const bad of ['0', '0s', 'soon', '-1m', '2y'])
    assert.throws(
      () => duration(bad),
      (e: Error) => e.message === `expected a time such as 10m, 90s or 1h30m (above 0, at most a year), got "${bad}"`,
    );
  assert.throws(() => duration('9000h'), /at most a year/);
});
