// Bounds the rate of live events per subscriber: at most one flush per interval (100 ms →
// ~10 updates a second). Between flushes, events of the same stream are merged — a run's
// metrics are concatenated, tuning and import progress keep only the latest — while status
// changes and trials are never dropped and keep their order. The store keeps every step; a UI
// only needs enough to draw.
import type { EventName, WireEvent } from '../../shared/api/index.js';
import type { EpochMetrics, StepMetrics } from '../../shared/run-types.js';

interface Pending {
  event: EventName;
  key?: string;
  data: unknown;
}

export interface CoalescerOptions {
  /** Minimum time between two flushes. */
  intervalMs?: number;
  /** Steps of one run sent per flush at most (evenly thinned, the last always kept). */
  maxStepsPerFlush?: number;
  now?: () => number;
}

/** Which events merge, and under what key. */
function mergeKey(event: EventName, data: unknown): string | undefined {
  const d = data as Record<string, unknown>;
  if (event === 'run-metrics') return `run:${String(d.runId)}`;
  if (event === 'tune-progress') return `tune:${String(d.sessionId)}`;
  if (event === 'import-progress') return `import:${String(d.importId)}`;
  return undefined;
}

export function thinSteps(steps: StepMetrics[], max: number): StepMetrics[] {
  if (steps.length <= max) return steps;
  const out: StepMetrics[] = [];
  for (let i = 0; i < max; i++) out.push(steps[Math.round(((i + 1) * steps.length) / max) - 1]!);
  return out;
}

export class EventCoalescer {
  private pending: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFlush = -Infinity;
  private closed = false;
  private readonly intervalMs: number;
  private readonly maxSteps: number;
  private readonly now: () => number;

  constructor(
    private readonly send: (event: WireEvent) => void,
    options: CoalescerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    this.maxSteps = options.maxStepsPerFlush ?? 100;
    this.now = options.now ?? (() => performance.now());
  }

  push(event: EventName, data: unknown): void {
    if (this.closed) return;
    const key = mergeKey(event, data);
    const existing = key === undefined ? undefined : this.pending.find((p) => p.key === key);
    if (existing) {
      if (event === 'run-metrics') {
        const a = existing.data as { runId: number; steps: StepMetrics[]; epochs: EpochMetrics[] };
        const b = data as typeof a;
        existing.data = { runId: a.runId, steps: a.steps.concat(b.steps), epochs: a.epochs.concat(b.epochs) };
      } else {
        existing.data = data;
      }
    } else {
      this.pending.push({ event, ...(key !== undefined ? { key } : {}), data });
    }
    this.schedule();
  }

  /** Sends whatever is pending now (shutdown, tests). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.lastFlush = this.now();
    for (const p of batch) {
      let data = p.data;
      if (p.event === 'run-metrics') {
        const m = data as { runId: number; steps: StepMetrics[]; epochs: EpochMetrics[] };
        data = { ...m, steps: thinSteps(m.steps, this.maxSteps) };
      }
      try {
        this.send({ event: p.event, data });
      } catch {
        // A subscriber that cannot take events (closed socket) is removed by its owner.
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = this.lastFlush + this.intervalMs - this.now();
    if (wait <= 0) {
      // Leading edge: the first event after a quiet spell goes out at once.
      this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }
}
