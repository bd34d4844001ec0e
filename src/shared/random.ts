// A small seeded PRNG (mulberry32): the same seed gives the same shuffles on every platform,
// so a run can be repeated exactly.
/** The generator's draws, and its state (a checkpoint keeps it, so a resumed run draws on as it would have). */
export interface SeededRng {
  (): number;
  state(): number;
}

export function createRng(seed: number): SeededRng {
  return rngAt(seed >>> 0);
}

/** A generator that continues from a state SeededRng.state() gave. */
export function rngAt(state: number): SeededRng {
  let a = state >>> 0;
  const next = (() => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as SeededRng;
  next.state = () => a;
  return next;
}

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(arr: T, rng: () => number): T {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = arr[i]!;
    arr[i] = arr[j]!;
    arr[j] = tmp;
  }
  return arr;
}
