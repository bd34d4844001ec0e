// The one byte formatter (src/shared/format.ts) that the CLI, the app, the tuning chart SVG and
// the tuner's reasoning all use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatCount, formatInputShape } from '../../../src/shared/format.js';

test('bytes: binary units with three significant digits', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.00 KiB');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(37.6 * 2 ** 20), '37.6 MiB');
  assert.equal(formatBytes(256 * 2 ** 20), '256 MiB');
  assert.equal(formatBytes(3.6 * 2 ** 30), '3.60 GiB');
  assert.equal(formatBytes(5 * 2 ** 40), '5.00 TiB');
  assert.equal(formatBytes(3 * 2 ** 50), '3072 TiB');
});

test('bytes: rounding never shows 1024 of a unit', () => {
  assert.equal(formatBytes(1024 * 1024 - 1), '1.00 MiB');
  assert.equal(formatBytes(1023.6 * 2 ** 30), '1.00 TiB');
  assert.equal(formatBytes(99.996 * 1024), '100 KiB');
  assert.equal(formatBytes(9.996 * 1024), '10.0 KiB');
});

test('bytes: negative amounts keep their sign; nothing to show is a dash', () => {
  assert.equal(formatBytes(-1536), '-1.50 KiB');
  assert.equal(formatBytes(null), '—');
  assert.equal(formatBytes(undefined), '—');
  assert.equal(formatBytes(Number.NaN), '—');
  assert.equal(formatBytes(Number.POSITIVE_INFINITY), '—');
});

test('parameter counts: decimal units with three significant digits', () => {
  assert.equal(formatCount(0), '0');
  assert.equal(formatCount(950), '950');
  assert.equal(formatCount(1234), '1.23 k');
  assert.equal(formatCount(272_474), '272 k');
  assert.equal(formatCount(2_236_682), '2.24 M');
  assert.equal(formatCount(11_181_642), '11.2 M');
  assert.equal(formatCount(999_950), '1.00 M', 'rounding never shows 1000 of a unit');
  assert.equal(formatCount(99_996), '100 k');
  assert.equal(formatCount(null), '—');
  assert.equal(formatCount(Number.NaN), '—');
});

test('input shapes: images as H×W×C, tables as features', () => {
  assert.equal(formatInputShape([28, 28, 1]), '28×28×1');
  assert.equal(formatInputShape([13]), '13 features');
  assert.equal(formatInputShape([1]), '1 feature');
});
