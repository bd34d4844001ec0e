// Columns for uPlot, which wants one shared x array and one y array per series (null where a
// series has no value). Live training appends points in step order, so appending is O(1);
// validation points (one per epoch) land on a step that is usually already there.

type Column = (number | null)[];

export class AlignedSeries {
  readonly x: number[] = [];
  readonly ys: Column[];

  constructor(readonly seriesCount: number) {
    this.ys = Array.from({ length: seriesCount }, () => []);
  }

  get length(): number {
    return this.x.length;
  }

  lastX(): number | null {
    return this.x.length ? this.x[this.x.length - 1]! : null;
  }

  /**
   * Sets series `s` at `x`. Non-finite values (a diverged loss is NaN) become gaps: uPlot's
   * scales would otherwise turn NaN into an empty chart.
   */
  set(s: number, x: number, y: number | null): void {
    const value = y === null || !Number.isFinite(y) ? null : y;
    const i = this.indexFor(x);
    this.ys[s]![i] = value;
  }

  clear(): void {
    this.x.length = 0;
    for (const y of this.ys) y.length = 0;
  }

  /** uPlot's data argument. The arrays are shared, not copied: call setData after changes. */
  data(): [number[], ...Column[]] {
    return [this.x, ...this.ys];
  }

  private indexFor(x: number): number {
    const n = this.x.length;
    if (n === 0 || x > this.x[n - 1]!) {
      this.x.push(x);
      for (const y of this.ys) y.push(null);
      return n;
    }
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.x[mid]!;
      if (v === x) return mid;
      if (v < x) lo = mid + 1;
      else hi = mid - 1;
    }
    this.x.splice(lo, 0, x);
    for (const y of this.ys) y.splice(lo, 0, null);
    return lo;
  }
}

/**
 * Calls `redraw` at most once per `intervalMs` however often `request` is called: live events
 * may come in bursts, and a chart redraw per event would freeze the page.
 */
export function throttledRedraw(redraw: () => void, intervalMs = 100): { request: () => void; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = -Infinity;
  return {
    request() {
      if (timer !== null) return;
      const wait = Math.max(0, last + intervalMs - Date.now());
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        redraw();
      }, wait);
    },
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
