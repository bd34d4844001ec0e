import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_WINDOW,
  fitToDisplays,
  loadWindowState,
  saveWindowState,
  trackWindowState,
  WINDOW_STATE_FILE,
} from '../../../src/main/electron/window-state.js';

test('the window state is remembered in the data folder; a damaged file gives the defaults', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'autobatch-win-'));
  assert.deepEqual(loadWindowState(home), DEFAULT_WINDOW);
  saveWindowState(home, { x: 10, y: 20, width: 1000, height: 700, maximized: true });
  assert.deepEqual(loadWindowState(home), { x: 10, y: 20, width: 1000, height: 700, maximized: true });
  assert.deepEqual(JSON.parse(readFileSync(path.join(home, WINDOW_STATE_FILE), 'utf8')).width, 1000);
  writeFileSync(path.join(home, WINDOW_STATE_FILE), '{"width": 3');
  assert.deepEqual(loadWindowState(home), DEFAULT_WINDOW);
  writeFileSync(path.join(home, WINDOW_STATE_FILE), '{"width": 10, "height": 10}');
  assert.deepEqual(loadWindowState(home), DEFAULT_WINDOW, 'too small to use');
});

test('a position no display shows any more is dropped, the size kept', () => {
  const displays = [{ x: 0, y: 0, width: 1920, height: 1080 }];
  assert.deepEqual(fitToDisplays({ x: 100, y: 100, width: 800, height: 600 }, displays), { x: 100, y: 100, width: 800, height: 600 });
  assert.deepEqual(fitToDisplays({ x: 2500, y: 100, width: 800, height: 600 }, displays), { width: 800, height: 600 });
  assert.deepEqual(fitToDisplays({ x: 1880, y: 1050, width: 800, height: 600 }, displays), { width: 800, height: 600 }, 'a sliver is not enough');
  assert.deepEqual(fitToDisplays({ width: 800, height: 600 }, displays), { width: 800, height: 600 });
});

test('moves and resizes are saved once they settle; closing saves at once', async () => {
  const win = Object.assign(new EventEmitter(), {
    bounds: { x: 5, y: 6, width: 900, height: 700 },
    getNormalBounds() {
      return this.bounds;
    },
    isMaximized: () => false,
  });
  const saved: unknown[] = [];
  trackWindowState(win, (s) => saved.push(s), 30);
  win.emit('resize');
  win.bounds = { x: 50, y: 60, width: 1000.4, height: 750 };
  win.emit('move');
  assert.equal(saved.length, 0);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(saved, [{ x: 50, y: 60, width: 1000, height: 750, maximized: false }]);
  win.bounds = { x: 1, y: 2, width: 800, height: 600 };
  win.emit('close');
  assert.equal(saved.length, 2);
  assert.deepEqual(saved[1], { x: 1, y: 2, width: 800, height: 600, maximized: false });
});

test('a data folder that cannot be written does not break closing', () => {
  const win = Object.assign(new EventEmitter(), { getNormalBounds: () => ({ x: 0, y: 0, width: 800, height: 600 }), isMaximized: () => false });
  trackWindowState(win, () => {
    throw new Error('EROFS');
  });
  assert.doesNotThrow(() => win.emit('close'));
  assert.ok(!existsSync('/nonexistent/window-state.json'));
});
