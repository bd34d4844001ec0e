// The window's size and position, remembered in window-state.json in the data folder. A saved
// position that no display shows any more (a monitor was unplugged) is dropped, keeping the size.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const WINDOW_STATE_FILE = 'window-state.json';

export const DEFAULT_WINDOW = { width: 1280, height: 820 } as const;
const MIN = { width: 640, height: 480 } as const;

const stateSchema = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(MIN.width).max(20_000),
  height: z.number().int().min(MIN.height).max(20_000),
  maximized: z.boolean().optional(),
});
type WindowState = z.infer<typeof stateSchema>;

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function loadWindowState(home: string): WindowState {
  const file = path.join(home, WINDOW_STATE_FILE);
  if (!existsSync(file)) return { ...DEFAULT_WINDOW };
  try {
    const parsed = stateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : { ...DEFAULT_WINDOW };
  } catch {
    return { ...DEFAULT_WINDOW };
  }
}

export function saveWindowState(home: string, state: WindowState): void {
  const file = path.join(home, WINDOW_STATE_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state) + '\n');
  renameSync(tmp, file);
}

/** The state with its position dropped when less than 100×50 px of the window would be on any display. */
export function fitToDisplays(state: WindowState, workAreas: readonly Rect[]): WindowState {
  if (state.x === undefined || state.y === undefined) return state;
  const visible = workAreas.some((a) => {
    const w = Math.min(state.x! + state.width, a.x + a.width) - Math.max(state.x!, a.x);
    const h = Math.min(state.y! + state.height, a.y + a.height) - Math.max(state.y!, a.y);
    return w >= 100 && h >= 50;
  });
  if (visible) return state;
  const { x: _x, y: _y, ...rest } = state;
  return rest;
}

interface TrackedWindow {
  on(event: 'resize' | 'move' | 'close', listener: () => void): unknown;
  getNormalBounds(): Rect;
  isMaximized(): boolean;
}

/** Saves the window's bounds after it stops moving/resizing (debounced) and when it closes. */
export function trackWindowState(win: TrackedWindow, save: (s: WindowState) => void, debounceMs = 500): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const snapshot = (): WindowState => {
    const b = win.getNormalBounds();
    return {
      x: Math.round(b.x),
      y: Math.round(b.y),
      width: Math.max(MIN.width, Math.round(b.width)),
      height: Math.max(MIN.height, Math.round(b.height)),
      maximized: win.isMaximized(),
    };
  };
  const saveNow = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    try {
      save(snapshot());
    } catch {
      // A read-only data folder must not keep the window from closing.
    }
  };
  const later = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(saveNow, debounceMs);
  };
  win.on('resize', later);
  win.on('move', later);
  win.on('close', saveNow);
  return saveNow;
}
