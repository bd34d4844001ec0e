// The adaptive benchmark's decisions (bench/tuner/adaptive.ts): the scaled arm's windows as
// declared, the table's ratios only where both arms reached the target, and that
// docs/benchmarks.md holds the tables the committed results give.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { adaptiveRecordSchema, adaptiveTable, scaledRule, type AdaptiveRecord } from '../../../bench/tuner/adaptive.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

test('the scaled arm decides every tenth of the planned steps (at least 10), changes two windows apart', () => {
  assert.deepEqual(scaledRule(1200), { everySteps: 120, minStepsBetween: 240 });
  assert.deepEqual(scaledRule(50), { everySteps: 10, minStepsBetween: 20 }, 'the settings allow no window under 10 steps');
  assert.deepEqual(scaledRule(335), { everySteps: 34, minStepsBetween: 68 });
});

const meta: AdaptiveRecord = {
  kind: 'meta',
  workload: 'w',
  backend: 'torch-cpu',
  target: 0.9,
  targetFrom: 'grid.jsonl',
  timedSeeds: [4, 5],
  maxEpochs: 3,
  commit: null,
  machine: 'm',
  date: '2026-12-01T00:00:00Z',
};
function run(seed: number, arm: 'fixed' | 'adaptive' | 'scaled', reachedAt: number | null, changes: [number, number, number][] = []): AdaptiveRecord {
  return {
    kind: 'run',
    seed,
    arm,
    order: 0,
    everySteps: arm === 'fixed' ? null : 20,
    minStepsBetween: arm === 'fixed' ? null : 40,
    status: reachedAt === null ? 'completed' : 'stopped',
    error: null,
    epochs: [{ epoch: 1, time: reachedAt ?? 5, valAccuracy: reachedAt === null ? 0.8 : 0.95 }],
    reachedAt,
    endTime: reachedAt ?? 5,
    steps: 100,
    changes: changes.map(([step, fromBatch, toBatch]) => ({ step, fromBatch, toBatch, gain: 0.1, noiseScale: 300 })),
  };
}

test('the table: ratios only over seeds where both arms reached the target; a median over unreached seeds is marked', () => {
  const table = adaptiveTable([
    meta,
    run(4, 'fixed', 2),
    run(4, 'adaptive', 1, [[40, 32, 64]]),
    run(5, 'fixed', null),
    run(5, 'adaptive', 3),
    run(4, 'scaled', null),
    run(5, 'scaled', null),
  ]);
  assert.match(table, /\| adaptive \| 20 \/ 40 \| 2\/2 \| s4 1\.0 s \(100\), s5 3\.0 s \(100\) \| 2\.0 s \| 0\.50× \(1\) \| s4: 32→64 @40; s5: none \|/);
  assert.match(table, /\| fixed \| — \| 1\/2 \| .* \| — \(✗\) \| 1 \|/);
  assert.match(table, /\| scaled \| 20 \/ 40 \| 0\/2 \| .* \| — \(✗\) \| — \|/);
});

test('docs/benchmarks.md holds the tables the committed adaptive results give', () => {
  const dir = path.join(root, 'docs', 'bench-results', '2026-12-01', 'adaptive');
  const doc = readFileSync(path.join(root, 'docs', 'benchmarks.md'), 'utf8');
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  assert.ok(files.length >= 2, 'at least two workloads');
  for (const f of files) {
    const records = readFileSync(path.join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => adaptiveRecordSchema.parse(JSON.parse(l)));
    assert.ok(doc.includes(adaptiveTable(records).trim()), `${f}: its table is in docs/benchmarks.md`);
  }
});
