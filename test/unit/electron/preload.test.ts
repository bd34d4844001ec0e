// The compiled preload, run as Electron runs a sandboxed preload: a function of
// (require, process, exports, module) whose require knows only 'electron'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { BRIDGE_GLOBAL, IPC_CHANNELS, METHOD_NAMES, type AutobatchBridge } from '../../../src/shared/api/index.js';

const preloadFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/preload/preload.cjs');

function runPreload() {
  const exposed = new Map<string, unknown>();
  const invoked: unknown[][] = [];
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  const electron = {
    contextBridge: { exposeInMainWorld: (name: string, value: unknown) => exposed.set(name, value) },
    ipcRenderer: {
      invoke: async (...args: unknown[]) => {
        invoked.push(args);
        return { id: 1, ok: true, result: args[1] };
      },
      on: (channel: string, l: (...a: unknown[]) => void) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel)!.add(l);
      },
      removeListener: (channel: string, l: (...a: unknown[]) => void) => listeners.get(channel)?.delete(l),
    },
    webUtils: { getPathForFile: (file: { path?: string }) => file.path ?? '' },
  };
  const required: string[] = [];
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`module not found: ${name} (a sandboxed preload can load only electron)`);
  };
  const wrapper = vm.runInNewContext(`(function(require, process, exports, module) {\n${readFileSync(preloadFile, 'utf8')}\n})`, {});
  const exports = {};
  wrapper(sandboxRequire, {}, exports, { exports });
  return { exposed, invoked, listeners, required };
}

test('the preload needs nothing but electron and exposes exactly one object', () => {
  const { exposed, required } = runPreload();
  assert.deepEqual(required, ['electron']);
  assert.deepEqual([...exposed.keys()], [BRIDGE_GLOBAL]);
});

test('it exposes one function per API method, the event subscription and pathForFile — nothing else', async () => {
  const { exposed, invoked } = runPreload();
  const bridge = exposed.get(BRIDGE_GLOBAL) as AutobatchBridge;
  assert.deepEqual(Object.keys(bridge).sort(), [...METHOD_NAMES, 'onEvent', 'pathForFile'].sort());
  for (const value of Object.values(bridge)) assert.equal(typeof value, 'function');
  const res = await bridge.getRun({ runId: 3 });
  assert.deepEqual(invoked, [[IPC_CHANNELS.call, 'getRun', { runId: 3 }]]);
  assert.equal(res.ok, true);
});

test('events arrive until unsubscribed; dropped files give their path or null', () => {
  const { exposed, listeners } = runPreload();
  const bridge = exposed.get(BRIDGE_GLOBAL) as AutobatchBridge;
  const got: unknown[] = [];
  const off = bridge.onEvent((e) => got.push(e));
  for (const l of listeners.get(IPC_CHANNELS.event)!) l({ sender: 'x' }, { event: 'run-status', data: { runId: 1, status: 'running' } });
  assert.deepEqual(got, [{ event: 'run-status', data: { runId: 1, status: 'running' } }]);
  off();
  assert.equal(listeners.get(IPC_CHANNELS.event)!.size, 0);
  assert.equal(bridge.pathForFile({ path: '/home/u/digits' }), '/home/u/digits');
  assert.equal(bridge.pathForFile({}), null, 'a File not on disk has no path');
});
