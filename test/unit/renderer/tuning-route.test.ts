// The Tune screen's session follows its route (#/tune/3, #/tune): the route's id, else a search
// running now, else the newest, else none; answers for a route left meanwhile are dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSession, TuningRouteFollower, type TuningListEntry, type TuningSource } from '../../../src/renderer/lib/tuning-route.js';

interface Session {
  id: number;
  status: string;
}

/** A source whose answers arrive only when the test says so, in any order. */
function slowSource(list: TuningListEntry[]) {
  const pending: { what: string; settle: () => void }[] = [];
  const statuses = new Map<number, string>();
  const source: TuningSource<Session> = {
    listTunings: () => new Promise((resolve) => pending.push({ what: 'list', settle: () => resolve(list) })),
    getTuning: (id) =>
      new Promise((resolve, reject) =>
        pending.push({
          what: `get ${id}`,
          settle: () =>
            list.some((t) => t.id === id) ? resolve({ id, status: statuses.get(id) ?? 'completed' }) : reject(new Error(`no tuning session ${id}`)),
        }),
      ),
  };
  /** Answers the pending request named `what`, then lets its continuation run. */
  const answer = async (what: string): Promise<void> => {
    const i = pending.findIndex((p) => p.what === what);
    assert.ok(i >= 0, `no pending ${what} (pending: ${pending.map((p) => p.what).join(', ')})`);
    pending.splice(i, 1)[0]!.settle();
    for (let k = 0; k < 5; k++) await Promise.resolve();
  };
  return { source, answer, pending, statuses };
}

function follower(source: TuningSource<Session>) {
  const shown: (number | null)[] = [];
  const shownStatus: string[] = [];
  const errors: string[] = [];
  const f = new TuningRouteFollower<Session>(
    source,
    (s) => {
      shown.push(s?.id ?? null);
      if (s) shownStatus.push(s.status);
    },
    (err) => errors.push((err as Error).message),
  );
  return { f, shown, shownStatus, errors };
}

const SESSIONS: TuningListEntry[] = [
  { id: 4, active: false },
  { id: 3, active: false },
];

test('a route without an id shows a search running now, else the newest, else none', () => {
  assert.equal(
    defaultSession([
      { id: 5, active: false },
      { id: 4, active: true },
    ]),
    4,
  );
  assert.equal(defaultSession(SESSIONS), 4);
  assert.equal(defaultSession([]), null);
});

test('each route shows its own session: #/tune/3 → #/tune/4 → #/tune → none in an empty store', async () => {
  const { source, answer } = slowSource(SESSIONS);
  const { f, shown } = follower(source);
  void f.follow(3);
  await answer('get 3');
  void f.follow(4);
  await answer('get 4');
  void f.follow(3);
  await answer('get 3');
  void f.follow(null);
  await answer('list');
  await answer('get 4');
  assert.deepEqual(shown, [3, 4, 3, 4]);

  const empty = slowSource([]);
  const e = follower(empty.source);
  void e.f.follow(null);
  await empty.answer('list');
  assert.deepEqual(e.shown, [null]);
});

test('Back before the first answer: only the session of the route followed last is shown', async () => {
  const { source, answer } = slowSource(SESSIONS);
  const { f, shown } = follower(source);
  void f.follow(4);
  void f.follow(3);
  await answer('get 3');
  await answer('get 4'); // late: its route was left
  assert.deepEqual(shown, [3]);

  // #/tune/3 → #/tune while the list is slow, then Back to #/tune/3.
  void f.follow(null);
  void f.follow(3);
  await answer('list');
  await answer('get 3');
  assert.deepEqual(shown, [3, 3], 'the newest (4) is never shown');
});

test('a session that cannot be loaded shows none and says why; a late failure of a route left says nothing', async () => {
  const { source, answer } = slowSource(SESSIONS);
  const { f, shown, errors } = follower(source);
  void f.follow(3);
  await answer('get 3');
  void f.follow(9);
  await answer('get 9');
  assert.deepEqual(shown, [3, null], 'session 3 is not left on screen for #/tune/9');
  assert.deepEqual(errors, ['no tuning session 9']);
  void f.follow(8);
  void f.follow(4);
  await answer('get 4');
  await answer('get 8');
  assert.deepEqual(shown, [3, null, 4]);
  assert.deepEqual(errors, ['no tuning session 9']);
});

test('a reload after a status change shows the session again, unless the route has moved on', async () => {
  const { source, answer, statuses, pending } = slowSource(SESSIONS);
  const { f, shown, shownStatus } = follower(source);
  statuses.set(4, 'running');
  void f.follow(4);
  await answer('get 4');
  statuses.set(4, 'completed');
  void f.reload(4);
  await answer('get 4');
  assert.deepEqual(shownStatus, ['running', 'completed']);
  void f.reload(4);
  void f.follow(3);
  await answer('get 3');
  await answer('get 4'); // the reload answers after the route moved to 3
  assert.deepEqual(shown, [4, 4, 3]);
  void f.reload(4); // not the route's session: nothing is asked
  assert.equal(pending.length, 0);
});
