import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshnessBadge, staleWarning } from '../../../src/renderer/lib/tuning-freshness.js';

const stale = {
  state: 'stale' as const,
  changes: [
    { field: 'backend' as const, text: 'the backend is now wasm, was webgpu' },
    { field: 'appVersion' as const, text: 'the app is now version 0.2.0, was 0.1.0' },
  ],
  reason: null,
};

test('the badge says it in words; the tone only adds to them', () => {
  assert.deepEqual(freshnessBadge(stale), {
    label: 'stale',
    detail: 'the backend is now wasm, was webgpu; the app is now version 0.2.0, was 0.1.0',
    tone: 'warn',
  });
  assert.deepEqual(freshnessBadge({ state: 'unknown', changes: [], reason: 'fingerprint unknown: this tuning was stored before tunings kept one' }), {
    label: 'fingerprint unknown',
    detail: 'this tuning was stored before tunings kept one',
    tone: 'muted',
  });
  assert.equal(freshnessBadge({ state: 'fresh', changes: [], reason: null })!.label, 'up to date');
  assert.equal(freshnessBadge(undefined), null);
});

test('the warning beside "Train with this": one item per change, only when stale', () => {
  assert.deepEqual(staleWarning(stale), {
    title: 'This tuning may no longer hold: 2 things it measured have changed since.',
    changes: ['The backend is now wasm, was webgpu.', 'The app is now version 0.2.0, was 0.1.0.'],
  });
  assert.equal(staleWarning({ state: 'unknown', changes: [], reason: 'x' }), null);
  assert.equal(staleWarning({ state: 'fresh', changes: [], reason: null }), null);
});
