// Starting a job through the API and waiting for its end, for any client (the CLI, benchmarks):
// the job's events are heard from before it starts, so none is missed, and the end is its
// terminal status event. Pure: no Node, no DOM.
import type { Api, EventData } from './contract.js';
import type { RunDetail, TuningDetail } from './data.js';
import { RUN_STATUSES } from '../run-types.js';
import { TUNING_STATUSES } from '../tuning-types.js';

const RUN_ENDS: ReadonlySet<string> = new Set(RUN_STATUSES.filter((s) => s !== 'queued' && s !== 'running'));
const TUNING_ENDS: ReadonlySet<string> = new Set(TUNING_STATUSES.filter((s) => s !== 'running'));

/** Resolves when `id` reaches an end; ends heard before the id is known are kept. */
class EndWatch {
  private readonly ended = new Set<number>();
  private waiting: { id: number; resolve: () => void } | undefined;

  heard(id: number): void {
    this.ended.add(id);
    if (this.waiting?.id === id) this.waiting.resolve();
  }

  until(id: number): Promise<void> {
    if (this.ended.has(id)) return Promise.resolve();
    return new Promise((resolve) => (this.waiting = { id, resolve }));
  }
}

export interface RunHooks {
  /** The run exists (its id is known); a client may now offer to stop it. */
  started?(runId: number): void | Promise<void>;
  backend?(event: EventData<'run-backend'>): void;
  metrics?(event: EventData<'run-metrics'>): void;
}

/** Starts a run with `start` and resolves with its detail once it ended (completed, stopped, failed…). */
export async function runToEnd(api: Api, start: () => Promise<{ runId: number }>, hooks: RunHooks = {}): Promise<RunDetail> {
  const watch = new EndWatch();
  let runId: number | undefined;
  const off = [
    api.on('run-status', (e) => {
      if (RUN_ENDS.has(e.status)) watch.heard(e.runId);
    }),
    api.on('run-backend', (e) => {
      if (e.runId === runId) hooks.backend?.(e);
    }),
    api.on('run-metrics', (e) => {
      if (e.runId === runId) hooks.metrics?.(e);
    }),
  ];
  try {
    runId = (await start()).runId;
    await hooks.started?.(runId);
    await watch.until(runId);
    return await api.getRun({ runId, misclassifiedLimit: 0 });
  } finally {
    for (const f of off) f();
  }
}

export interface TuningHooks {
  started?(sessionId: number): void | Promise<void>;
  progress?(event: EventData<'tune-progress'>): void;
}

/** Starts an Auto-tune search with `start` and resolves with its detail once it ended. */
export async function tuningToEnd(api: Api, start: () => Promise<{ sessionId: number }>, hooks: TuningHooks = {}): Promise<TuningDetail> {
  const watch = new EndWatch();
  let sessionId: number | undefined;
  const off = [
    api.on('tune-status', (e) => {
      if (TUNING_ENDS.has(e.status)) watch.heard(e.sessionId);
    }),
    api.on('tune-progress', (p) => {
      if (p.sessionId === sessionId) hooks.progress?.(p);
    }),
  ];
  try {
    sessionId = (await start()).sessionId;
    await hooks.started?.(sessionId);
    await watch.until(sessionId);
    return await api.getTuning({ sessionId });
  } finally {
    for (const f of off) f();
  }
}
