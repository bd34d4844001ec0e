import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainerProcess } from '../../../src/main/service/trainer-host.js';
import { WarmSpawner } from '../../../src/main/service/warm-spawner.js';

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
