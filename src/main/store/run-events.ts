// A run's events (a resume, an out-of-memory step-down) and the move that reopens a run for its
// next attempt: in one transaction, the metrics of steps after the checkpoint leave the run's
// series for discarded_metrics (marked with the attempt that recorded them), the run goes back to
// 'queued' with its attempt count raised, and the event is stored. Nothing is deleted.
import type Database from 'better-sqlite3';
import os from 'node:os';
import { z } from 'zod';
import { RESUMABLE_STATUSES, runEventSchema, type RunEvent } from '../../shared/run-events.js';
import type { StoreContext } from './context.js';
import { nowIso } from './context.js';
import { guard } from './errors.js';
import { checkColumn, checkInput, parseJsonColumn, trainConfigSchema } from './schemas.js';
import type { TrainConfig } from '../../shared/run-types.js';

interface EventRow {
  kind: string;
  step: number;
  time: number;
  attempt: number;
  detail: string;
  created_at: string;
}

/** What a resume stores: the event without the fields the store fills in (attempt, createdAt). */
export type NewRunEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'attempt' | 'createdAt'> : never) : never;

export class RunEventRepo {
  private readonly listStmt: Database.Statement<[number], EventRow>;
  private readonly discardedStmt: Database.Statement<[number], { n: number }>;

  constructor(private readonly ctx: StoreContext) {
    this.listStmt = ctx.db.prepare('SELECT kind, step, time, attempt, detail, created_at FROM run_events WHERE run_id = ? ORDER BY id');
    this.discardedStmt = ctx.db.prepare(`SELECT count(DISTINCT attempt || ':' || step) AS n FROM discarded_metrics WHERE run_id = ? AND name = 'loss'`);
  }

  list(runId: number): RunEvent[] {
    return guard(this.ctx.file, () =>
      this.listStmt.all(runId).map((r) => {
        const ref = { what: `an event of run ${runId}`, column: 'detail', file: this.ctx.file };
        const detail = parseJsonColumn(z.record(z.string(), z.unknown()), r.detail, ref);
        return checkColumn(runEventSchema, { ...detail, kind: r.kind, step: r.step, time: r.time, attempt: r.attempt, createdAt: r.created_at }, ref);
      }),
    );
  }

  /** Steps kept apart (recorded by an attempt, redone by the next). */
  discardedSteps(runId: number): number {
    return guard(this.ctx.file, () => this.discardedStmt.get(runId)!.n);
  }

  /**
   * Reopens an ended run for its next attempt from a checkpoint at `event.step`: the metrics of
   * later steps are moved apart, the run is 'queued' again (owned by this process), the event is
   * stored. Returns the new attempt's number.
   * @throws Error when the run is unknown or not in a resumable status.
   */
  reopen(runId: number, event: NewRunEvent, options: { config?: TrainConfig; active?: boolean } = {}): number {
    const db = this.ctx.db;
    // An ended run (Resume), or one whose trainer has just failed (out-of-memory recovery: still 'running' in the store).
    const from: readonly string[] = options.active ? ['queued', 'running'] : RESUMABLE_STATUSES;
    return guard(this.ctx.file, () =>
      db.transaction(() => {
        const run = db.prepare<[number], { status: string; attempts: number }>('SELECT status, attempts FROM runs WHERE id = ?').get(runId);
        if (!run) throw new Error(`no run with id ${runId}`);
        if (!from.includes(run.status)) throw new Error(`run ${runId} cannot be resumed: it is ${run.status}`);
        if (options.config)
          db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify(checkInput(trainConfigSchema, options.config, 'training config')), runId);
        const attempt = run.attempts + 1;
        db.prepare(
          `INSERT OR REPLACE INTO discarded_metrics (run_id, attempt, step, epoch, time, name, value)
           SELECT run_id, ?, step, epoch, time, name, value FROM metrics WHERE run_id = ? AND step > ?`,
        ).run(run.attempts, runId, event.step);
        db.prepare('DELETE FROM metrics WHERE run_id = ? AND step > ?').run(runId, event.step);
        db.prepare(
          `UPDATE runs SET status = 'queued', ended_at = NULL, error = NULL, attempts = ?, steps = ?, owner_pid = ?, owner_host = ?
           WHERE id = ?`,
        ).run(attempt, event.step, process.pid, os.hostname(), runId);
        this.insert(runId, event, attempt);
        return attempt;
      })(),
    );
  }

  /**
   * Stores an event of the run's current attempt (an adaptive batch change) and the run's config
   * as it trains from then on, in one transaction.
   */
  record(runId: number, event: Omit<Extract<RunEvent, { kind: 'batch-adapted' }>, 'attempt' | 'createdAt'>, config: TrainConfig): void {
    const db = this.ctx.db;
    guard(this.ctx.file, () =>
      db.transaction(() => {
        const run = db.prepare<[number], { attempts: number }>('SELECT attempts FROM runs WHERE id = ?').get(runId);
        if (!run) throw new Error(`no run with id ${runId}`);
        db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify(checkInput(trainConfigSchema, config, 'training config')), runId);
        this.insert(runId, event, Math.max(1, run.attempts));
      })(),
    );
  }

  /** One event row: its kind, step and time in columns, the rest as JSON (inside the caller's transaction). */
  private insert(runId: number, event: NewRunEvent, attempt: number): void {
    const { kind, step, time, ...detail } = event;
    this.ctx.db
      .prepare('INSERT INTO run_events (run_id, kind, step, time, attempt, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(runId, kind, step, time, attempt, JSON.stringify(detail), nowIso());
  }
}
