import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { IPC_CHANNELS, type WireEvent, type WireResponse } from '../../../src/shared/api/index.js';
import { answerIpcCall, forwardEvents, registerIpcBridge, type CallDispatcher } from '../../../src/main/electron/ipc-bridge.js';

function fakeDispatcher() {
  const calls: unknown[] = [];
  let subscriber: ((e: WireEvent) => void) | undefined;
  let unsubscribed = 0;
  const d: CallDispatcher = {
    async dispatch(raw) {
      calls.push(raw);
      return { id: (raw as { id: number }).id, ok: true, result: 'done' } as WireResponse;
    },
    subscribe(send) {
      subscriber = send;
      return () => {
        unsubscribed++;
      };
    },
  };
  return { d, calls, emit: (e: WireEvent) => subscriber?.(e), unsubscribed: () => unsubscribed };
}

test('calls from frames that do not show app:// content are refused before the dispatcher', async () => {
  const { d, calls } = fakeDispatcher();
  for (const frame of [{ url: 'https://evil.example/' }, { url: 'file:///tmp/x.html' }, { url: 'app://other/index.html' }, null]) {
    const res = await answerIpcCall(d, { senderFrame: frame } as never, 'listRuns', {});
    assert.equal(res.ok, false);
    if (!res.ok) assert.equal(res.error.code, 'rejected');
  }
  assert.equal(calls.length, 0);
  const ok = await answerIpcCall(d, { senderFrame: { url: 'app://app/index.html#/runs' } } as never, 'listRuns', { status: 'completed' });
  assert.equal(ok.ok, true);
  assert.deepEqual(calls, [{ id: ok.id, method: 'listRuns', params: { status: 'completed' } }]);
});

test('the bridge registers one invoke channel on ipcMain', async () => {
  const { d, calls } = fakeDispatcher();
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  const ipcMain = {
    handle: (channel: string, h: (event: unknown, ...args: unknown[]) => unknown) => handlers.set(channel, h),
    removeHandler: (channel: string) => handlers.delete(channel),
  };
  const remove = registerIpcBridge(ipcMain as never, d);
  assert.deepEqual([...handlers.keys()], [IPC_CHANNELS.call]);
  const res = (await handlers.get(IPC_CHANNELS.call)!({ senderFrame: { url: 'app://app/index.html' } }, 'getSettings')) as WireResponse;
  assert.equal(res.ok, true);
  assert.equal(calls.length, 1);
  remove();
  assert.equal(handlers.size, 0);
});

test('events reach a window only while it shows the app, and stop when it is destroyed', () => {
  const { d, emit, unsubscribed } = fakeDispatcher();
  const sent: unknown[][] = [];
  let url = 'app://app/index.html';
  const contents = Object.assign(new EventEmitter(), {
    isDestroyed: () => false,
    send: (...args: unknown[]) => sent.push(args),
    getURL: () => url,
  });
  forwardEvents(d, contents);
  emit({ event: 'run-status', data: { runId: 1, status: 'running' } });
  url = 'https://evil.example/';
  emit({ event: 'run-status', data: { runId: 1, status: 'completed' } });
  assert.deepEqual(sent, [[IPC_CHANNELS.event, { event: 'run-status', data: { runId: 1, status: 'running' } }]]);
  contents.emit('destroyed');
  assert.equal(unsubscribed(), 1);
});
