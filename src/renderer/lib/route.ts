// Screens are addressed by the URL hash (#/runs/12), so a reload stays on the same screen and
// the browser's back button works. Pure parsing here; the reactive part is in router.svelte.ts.

export type Screen = 'datasets' | 'tune' | 'train' | 'runs' | 'settings';
const SCREENS: readonly Screen[] = ['datasets', 'tune', 'train', 'runs', 'settings'];

export interface Route {
  screen: Screen;
  /** The dataset, run or tuning session the screen shows, when the hash names one. */
  id: number | null;
}

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split(/[/?]/);
  const screen = SCREENS.find((s) => s === parts[0]) ?? 'datasets';
  const n = Number(parts[1]);
  return { screen, id: Number.isInteger(n) && n > 0 ? n : null };
}

export function hrefOf(screen: Screen, id?: number | null): string {
  return id ? `#/${screen}/${id}` : `#/${screen}`;
}
