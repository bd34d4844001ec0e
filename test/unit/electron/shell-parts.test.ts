// Single instance, the menu and the utilityProcess adapters, with fakes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { bringToFront, claimSingleInstance } from '../../../src/main/electron/single-instance.js';
import { appMenuTemplate, SCREENS } from '../../../src/main/electron/menu.js';
import { createUtilityEntryRunner, createUtilitySpawner } from '../../../src/main/electron/utility-spawner.js';

test('a second instance quits; the first comes to the front when it is launched again', () => {
  const second = Object.assign(new EventEmitter(), {
    requestSingleInstanceLock: () => false,
    quitted: false,
    quit() {
      this.quitted = true;
    },
  });
  assert.equal(
    claimSingleInstance(second, () => {}),
    false,
  );
  assert.equal(second.quitted, true);

  const first = Object.assign(new EventEmitter(), {
    requestSingleInstanceLock: () => true,
    quitted: false,
    quit() {
      this.quitted = true;
    },
  });
  let focused = 0;
  assert.equal(
    claimSingleInstance(first, () => focused++),
    true,
  );
  first.emit('second-instance');
  assert.equal(focused, 1);
  assert.equal(first.quitted, false);

  const calls: string[] = [];
  bringToFront({ isMinimized: () => true, restore: () => calls.push('restore'), show: () => calls.push('show'), focus: () => calls.push('focus') });
  assert.deepEqual(calls, ['restore', 'show', 'focus']);
  assert.doesNotThrow(() => bringToFront(undefined));
});

test('the menu offers every screen with a shortcut, and dev tools only in development', () => {
  const went: string[] = [];
  const actions = { navigate: (s: string) => went.push(s), openDataFolder: () => went.push('folder'), openDocs: () => went.push('docs') };
  const menu = appMenuTemplate('linux', actions);
  const go = menu.find((m) => m.label === 'Go')!;
  const items = go.submenu as { label: string; accelerator: string; click: () => void }[];
  assert.deepEqual(
    items.map((i) => i.label),
    SCREENS.map((s) => s.label),
  );
  assert.deepEqual(
    items.map((i) => i.accelerator),
    ['CmdOrCtrl+1', 'CmdOrCtrl+2', 'CmdOrCtrl+3', 'CmdOrCtrl+4', 'CmdOrCtrl+5'],
  );
  items[3]!.click();
  assert.deepEqual(went, ['runs']);
  const roles = (template: typeof menu) => JSON.stringify(template);
  assert.doesNotMatch(roles(menu), /toggleDevTools/);
  assert.match(roles(appMenuTemplate('linux', actions, true)), /toggleDevTools/);
  assert.equal(appMenuTemplate('darwin', actions)[0]!.role, 'appMenu');
});

function fakeUtility() {
  const child = Object.assign(new EventEmitter(), {
    pid: 4242,
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    posted: [] as unknown[],
    killed: 0,
    postMessage(m: unknown) {
      this.posted.push(m);
    },
    kill() {
      this.killed++;
      return true;
    },
  });
  return child;
}

test('the trainer spawner speaks through utilityProcess: messages, exit, stderr tail', () => {
  const child = fakeUtility();
  const forks: unknown[][] = [];
  const spawn = createUtilitySpawner((...args: unknown[]) => {
    forks.push(args);
    return child as never;
  }, '/app/trainer-main.js');
  const p = spawn();
  assert.equal(forks[0]![0], '/app/trainer-main.js');
  assert.equal(p.pid, 4242);
  p.send({ type: 'stop' });
  assert.deepEqual(child.posted, [{ type: 'stop' }]);
  const got: unknown[] = [];
  p.onMessage((m) => got.push(m));
  child.emit('message', { type: 'ready', pid: 4242 });
  assert.deepEqual(got, [{ type: 'ready', pid: 4242 }]);
  child.stderr.write('Error: out of memory\n');
  assert.match(p.stderrTail!(), /out of memory/);
  const exits: unknown[] = [];
  p.onExit((code, signal) => exits.push([code, signal]));
  child.emit('exit', 3);
  assert.deepEqual(exits, [[3, null]]);
  p.send({ type: 'stop' });
  p.kill();
  assert.equal(child.posted.length, 1, 'nothing is sent to an exited process');
  assert.equal(child.killed, 0);
});

test(
  "the trainer spawner reads the utility process's CPU time by its pid, and none once it has exited",
  { skip: process.platform === 'win32' && 'no CPU time on Windows' },
  async () => {
    const child = Object.assign(fakeUtility(), { pid: process.pid }); // a process that exists: this one
    const p = createUtilitySpawner(() => child as never, '/app/trainer-main.js')();
    const cpu = await p.cpuSeconds!();
    assert.ok(cpu !== undefined && cpu > 0 && cpu <= process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 + 0.05, `read ${cpu}`);
    child.emit('exit', 0);
    assert.equal(await p.cpuSeconds!(), undefined);
  },
);

test('the entry runner collects stdout and kills a process that runs too long', async () => {
  const child = fakeUtility();
  const run = createUtilityEntryRunner(() => child as never);
  const pending = run('/app/detect-entry.js', ['wasm'], 20);
  child.stdout.write('AUTOBATCH_BACKEND_DETECT {"ok":true}\n');
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(child.killed, 1);
  child.emit('exit', 1);
  const out = await pending;
  assert.equal(out.code, 1);
  assert.match(out.stdout, /AUTOBATCH_BACKEND_DETECT/);
});
