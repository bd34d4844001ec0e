// The DDP efficiency benchmark's measure (bench/ddp/report.ts): the trailing mean, the first
// crossing, the efficiency from both, and that docs/benchmarks.md holds the tables the committed
// results give.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { ddpTable, measuredEfficiency, stepsTo, trailingMean } from '../../../bench/ddp/report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

test('the trailing mean covers the window, or what there is of it at the start', () => {
  assert.equal(trailingMean([4, 2, 6, 8], 3, 2), 7);
  assert.equal(trailingMean([4, 2, 6, 8], 0, 3), 4);
});

test('steps to a loss: the first full window whose mean reaches it; a noisy dip inside a window does not count alone', () => {
  const losses = [1, 0.9, 0.2, 0.8, 0.6, 0.5, 0.4];
  assert.equal(stepsTo(losses, 0.5, 1), 3, 'one step: the dip counts');
  assert.equal(stepsTo(losses, 0.51, 3), 7, 'three steps: (0.6 + 0.5 + 0.4) / 3, not (0.2 + 0.8 + 0.6) / 3');
  assert.equal(stepsTo(losses, 0.1, 2), null);
});

test('efficiency: samples to the loss at the base batch over those at the global batch; identical runs give 1', () => {
  assert.equal(measuredEfficiency({ steps: 40, batch: 64 }, { steps: 40, batch: 64 }), 1);
  assert.equal(measuredEfficiency({ steps: 40, batch: 64 }, { steps: 25, batch: 128 }), 0.8);
  assert.equal(measuredEfficiency({ steps: 40, batch: 64 }, { steps: null, batch: 128 }), null);
});

test('docs/benchmarks.md holds the tables the committed DDP results give', () => {
  const dir = path.join(root, 'docs', 'bench-results', '2026-12-01', 'ddp');
  const doc = readFileSync(path.join(root, 'docs', 'benchmarks.md'), 'utf8');
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  assert.ok(files.length >= 1);
  for (const f of files) {
    const lines = readFileSync(path.join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(doc.includes(ddpTable(lines).trim()), `${f}: its table is in docs/benchmarks.md`);
  }
});
