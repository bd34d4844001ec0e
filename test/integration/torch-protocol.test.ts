// The host ↔ Python trainer wire: the zod schemas and the Python trainer's checks judge the same
// fixture messages the same way, and every numeric field of the trainer's messages survives the
// trip through Python — NaN and ±Infinity included (src/shared/json-lines.ts, protocol.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJsonLine, encodeJsonLine } from '../../src/shared/json-lines.js';
import { hostMessageSchema, trainerMessageSchema, type TrainerMessage } from '../../src/shared/trainer-protocol.js';
import { probeHostMessageSchema } from '../../src/shared/probe-protocol.js';
import { pythonProcessEnv } from '../../src/main/service/python-discovery.js';
import { missing, torchPython } from '../support/parts.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = path.join(root, 'test', 'fixtures', 'protocol', 'host-messages.json');
const PROBE_FIXTURES = path.join(root, 'test', 'fixtures', 'protocol', 'probe-host-messages.json');
const CHECK = path.join(root, 'test', 'python', 'protocol_check.py');
const skip = missing('torch');

const python = torchPython;

function runPython(args: string[], input?: string): string {
  const r = spawnSync(python(), [CHECK, ...args], { input, encoding: 'utf8', env: pythonProcessEnv(), timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

interface Fixtures {
  valid: { name: string; message: unknown }[];
  invalid: { name: string; message: unknown }[];
}

/** Fixture messages judged by zod (through the wire's decoding) and by the Python checks (`mode` of protocol_check.py) alike. */
function judgeAlike(file: string, schema: { safeParse(v: unknown): { success: boolean } }, mode: string, least: { valid: number; invalid: number }): void {
  const fixtures = JSON.parse(readFileSync(file, 'utf8')) as Fixtures;
  assert.ok(fixtures.valid.length >= least.valid && fixtures.invalid.length >= least.invalid);
  const expected = [...fixtures.valid.map((c) => ({ name: c.name, valid: true })), ...fixtures.invalid.map((c) => ({ name: c.name, valid: false }))];
  // The Node side, through the same decoding as the wire.
  for (const c of [...fixtures.valid, ...fixtures.invalid]) {
    const verdict = schema.safeParse(decodeJsonLine(JSON.stringify(c.message))).success;
    assert.equal(verdict, expected.find((e) => e.name === c.name)!.valid, `zod on "${c.name}"`);
  }
  const py = JSON.parse(runPython([mode, file])) as { name: string; valid: boolean; why: string | null }[];
  assert.deepEqual(
    py.map(({ name, valid }) => ({ name, valid })),
    expected,
  );
  for (const v of py.filter((p) => !p.valid)) assert.ok(v.why && v.why.length > 5, `Python says why "${v.name}" is invalid`);
}

test('zod and the Python trainer judge every fixture host message the same way', { skip }, () => {
  judgeAlike(FIXTURES, hostMessageSchema, 'verdicts', { valid: 8, invalid: 20 });
});

test('zod and the Python trainer judge every fixture probe-session message the same way', { skip }, () => {
  judgeAlike(PROBE_FIXTURES, probeHostMessageSchema, 'probe-verdicts', { valid: 10, invalid: 30 });
});

const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

/** Trainer messages with every numeric field, the losses non-finite in turn. */
function trainerMessages(): TrainerMessage[] {
  const summary = { steps: 20, epochsCompleted: 1, trainSeconds: 1.25, samplesPerSecond: 1234.5, bestValAccuracy: 0.875, finalValAccuracy: null };
  const metrics: TrainerMessage[] = special.map((v, i) => ({
    type: 'metrics',
    steps: [
      { step: i + 1, epoch: 1, time: 0.1 * (i + 1), loss: v, accuracy: 0.5, samplesPerSecond: 512.25, stepMs: 31.5, memoryBytes: 1 << 20, learningRate: 1e-3 },
    ],
    epochs: [{ epoch: 1, step: i + 1, time: 2.5, valLoss: v, valAccuracy: 0.1, trainLoss: special[(i + 1) % 3]!, trainAccuracy: 0.25 }],
  }));
  return [
    ...metrics,
    { type: 'ready', pid: 4242 },
    { type: 'heartbeat', time: 1_764_500_000_000.5 },
    { type: 'done', status: 'completed', summary, artifact: { path: '/m', bytes: 99 } },
    { type: 'failed', cause: 'diverged', message: 'the loss became NaN at step 3', summary },
  ];
}

test('every numeric field of the trainer messages round-trips through Python, NaN and ±Infinity included', { skip }, () => {
  const messages = trainerMessages();
  const lines = messages.map((m) => encodeJsonLine(m));
  // Plain JSON: a parser without the tag reviver reads every line (no bare NaN or Infinity).
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
  const back = runPython(['echo'], lines.join('\n') + '\n')
    .trim()
    .split('\n')
    .map((l) => trainerMessageSchema.parse(decodeJsonLine(l)));
  assert.equal(back.length, messages.length);
  // deepEqual compares NaN with Object.is semantics: NaN equals NaN, 0 and -0 differ.
  assert.deepEqual(back, messages);
});
