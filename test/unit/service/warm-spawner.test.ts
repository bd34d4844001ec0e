import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainerProcess } from '../../../src/main/service/trainer-host.js';
import { WarmSpawner } from '../../../src/main/service/warm-spawner.js';
import { WarmPythonSpawners } from '../../../src/main/service/warm-python.js';
import type { PythonSpawnerFactory } from '../../../src/main/service/python-trainer.js';

/** A stand-in process: records kills, lets the test end it. */
function fakeProcess(id: number): TrainerProcess & { id: number; killed: string[]; exit(): void } {
  const exits: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
  const p = {
    id,
    killed: [] as string[],
    pid: 1000 + id,
    send: () => {},
    kill: (signal?: NodeJS.Signals) => void p.killed.push(signal ?? 'SIGTERM'),
    onMessage: () => {},
    onExit: (cb: (code: number | null, signal: NodeJS.Signals | null) => void) => void exits.push(cb),
    exit: () => exits.forEach((cb) => cb(0, null)),
  };
  return p;
}

function counting() {
  const made: ReturnType<typeof fakeProcess>[] = [];
  return {
    made,
    spawn: () => {
      const p = fakeProcess(made.length);
      made.push(p);
      return p;
    },
  };
}

test('the spare is handed to the next job, and a fresh process after that', () => {
  const base = counting();
  const warm = new WarmSpawner(base.spawn);
  warm.prewarm();
  warm.prewarm(); // one spare at most
  assert.equal(base.made.length, 1);
  assert.equal(warm.ready, true);
  assert.equal(warm.spawn(), base.made[0]);
  assert.equal(warm.ready, false);
  assert.equal(warm.spawn(), base.made[1], 'no spare left: a fresh process');
});

test('a spare that dies while waiting is forgotten', () => {
  const base = counting();
  const warm = new WarmSpawner(base.spawn);
  warm.prewarm();
  base.made[0]!.exit();
  assert.equal(warm.ready, false);
  assert.equal(warm.spawn(), base.made[1]);
});

test('close ends the spare and starts no more', () => {
  const base = counting();
  const warm = new WarmSpawner(base.spawn);
  warm.prewarm();
  warm.close();
  assert.deepEqual(base.made[0]!.killed, ['SIGTERM']);
  warm.prewarm();
  assert.equal(base.made.length, 1);
  assert.equal(warm.ready, false);
});

/** A Python spawner factory of stand-ins: every process records the interpreter it was started for. */
function pythonFactory() {
  const made: (ReturnType<typeof fakeProcess> & { python: string })[] = [];
  const factory: PythonSpawnerFactory = (o) => () => {
    const p = Object.assign(fakeProcess(made.length), { python: o.python });
    made.push(p);
    return p;
  };
  return { made, factory };
}

test('Python spares: none before a torch job, then one for the interpreter it used', () => {
  const base = pythonFactory();
  const warm = new WarmPythonSpawners(base.factory);
  warm.prewarm();
  assert.equal(base.made.length, 0, 'no torch job yet: no spare (a tfjs-only user pays nothing)');
  const first = warm.factory({ python: '/usr/bin/python3' })();
  assert.equal(first, base.made[0]);
  warm.prewarm();
  assert.equal(base.made.length, 2);
  assert.equal(warm.ready({ python: '/usr/bin/python3' }), true);
  assert.equal(warm.factory({ python: '/usr/bin/python3' })(), base.made[1], 'the next job takes the spare');
  assert.equal(warm.ready({ python: '/usr/bin/python3' }), false);
});

test('Python spares: another interpreter ends the spare of the last one', () => {
  const base = pythonFactory();
  const warm = new WarmPythonSpawners(base.factory);
  warm.factory({ python: '/a/python' })();
  warm.prewarm();
  const spareOfA = base.made[1]!;
  assert.equal(spareOfA.python, '/a/python');
  const b = warm.factory({ python: '/b/python' })();
  assert.equal((b as typeof spareOfA).python, '/b/python', 'a process of its own interpreter, never the other spare');
  assert.deepEqual(spareOfA.killed, ['SIGTERM']);
  warm.prewarm();
  assert.equal(base.made.at(-1)!.python, '/b/python');
  warm.close();
  assert.deepEqual(base.made.at(-1)!.killed, ['SIGTERM']);
  warm.prewarm();
  assert.equal(warm.factory({ python: '/b/python' })(), base.made.at(-1), 'closed: a fresh process each time, no spare');
});
