import type Database from 'better-sqlite3';
import os from 'node:os';
import type { BackendReport, BackendSkip, ConcreteBackend, RunModel, RunStatus, TrainConfig } from '../../shared/run-types.js';
import type { DistributedRun } from '../../shared/api/data.js';
import type { StoreContext } from './context.js';
import { distributedOf, IMPORT_COLUMNS, type ImportColumns } from './run-imports.js';
import { nowIso } from './context.js';
import { guard } from './errors.js';
import { backendSkipsSchema, checkColumn, storedRung, checkInput, modelKindSchema, parseJsonColumn, runStatusSchema, trainConfigSchema } from './schemas.js';

export interface RunRecord {
  id: number;
  datasetId: number;
  datasetName: string;
  model: RunModel;
  config: TrainConfig;
  status: RunStatus;
  backend: string | null;
  /** The concrete choice it trained on ('torch-cpu', 'wasm'…), which `auto` resolved to; null before it started and in older rows. */
  rung: ConcreteBackend | null;
  device: string | null;
  backendSkipped: BackendSkip[];
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  trainSeconds: number | null;
  bestValAccuracy: number | null;
  finalValAccuracy: number | null;
  samplesPerSecond: number | null;
  steps: number;
  error: string | null;
  /** The Auto-tune session whose recommendation this run trains with, if any. */
  tuningSessionId: number | null;
  /** A run trained elsewhere and imported: its provenance (run-imports.ts); absent for runs trained here. */
  distributed?: DistributedRun;
}

export type FinalRunStatus = 'completed' | 'stopped' | 'failed' | 'interrupted';

export interface RunSummary {
  bestValAccuracy: number;
  finalValAccuracy: number;
  trainSeconds: number;
  samplesPerSecond: number;
  steps: number;
}

export interface RunFilter {
  datasetId?: number;
  status?: RunStatus;
  model?: RunModel;
}

interface RunRow extends ImportColumns {
  id: number;
  dataset_id: number;
  dataset_name: string;
  model: string;
  config: string;
  status: string;
  backend: string | null;
  rung: string | null;
  device: string | null;
  backend_skipped: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  train_seconds: number | null;
  best_val_accuracy: number | null;
  final_val_accuracy: number | null;
  samples_per_second: number | null;
  steps: number;
  error: string | null;
  tuning_session_id: number | null;
}

const SELECT = `SELECT r.id, r.dataset_id, d.name AS dataset_name, r.model, r.config, r.status, r.backend, r.rung,
  r.device, r.backend_skipped, r.created_at, r.started_at, r.ended_at, r.train_seconds, r.best_val_accuracy,
  r.final_val_accuracy, r.samples_per_second, r.steps, r.error, r.tuning_session_id, ${IMPORT_COLUMNS}
  FROM runs r JOIN datasets d ON d.id = r.dataset_id LEFT JOIN run_imports i ON i.run_id = r.id`;

const FINAL_STATUSES: readonly FinalRunStatus[] = ['completed', 'stopped', 'failed', 'interrupted'];

const SUMMARY_COLUMNS: { [K in keyof RunSummary]: string } = {
  bestValAccuracy: 'best_val_accuracy',
  finalValAccuracy: 'final_val_accuracy',
  trainSeconds: 'train_seconds',
  samplesPerSecond: 'samples_per_second',
  steps: 'steps',
};

export const INTERRUPTED_MESSAGE = 'the process running it ended unexpectedly';

export class RunRepo {
  private readonly createStmt: Database.Statement<[number, string, string, string, number, string, number | null]>;
  private readonly getStmt: Database.Statement<[number], RunRow>;
  private readonly statusStmt: Database.Statement<[number], { status: string }>;
  private readonly datasetStmt: Database.Statement<[number], { one: number }>;
  private readonly runningStmt: Database.Statement<[string, string, string | null, string, string, number, string, number]>;
  private readonly finishStmt: Database.Statement<[string, string | null, string, number]>;
  private readonly listStmts = new Map<string, Database.Statement<unknown[], RunRow>>();

  constructor(private readonly ctx: StoreContext) {
    const db = ctx.db;
    this.createStmt = db.prepare(
      `INSERT INTO runs (dataset_id, model, config, status, created_at, owner_pid, owner_host, tuning_session_id)
       VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)`,
    );
    this.getStmt = db.prepare(`${SELECT} WHERE r.id = ?`);
    this.statusStmt = db.prepare('SELECT status FROM runs WHERE id = ?');
    this.datasetStmt = db.prepare('SELECT 1 AS one FROM datasets WHERE id = ?');
    this.runningStmt = db.prepare(
      `UPDATE runs SET status = 'running', started_at = coalesce(started_at, ?), backend = ?, rung = ?, device = ?, backend_skipped = ?,
         owner_pid = ?, owner_host = ?
       WHERE id = ? AND status = 'queued'`,
    );
    this.finishStmt = db.prepare(
      `UPDATE runs SET status = ?, error = ?, ended_at = ?
       WHERE id = ? AND status IN ('queued', 'running')`,
    );
  }

  /** A new 'queued' run owned by this process. */
  create(input: { datasetId: number; config: TrainConfig; tuningSessionId?: number }): RunRecord {
    checkInput(trainConfigSchema, input.config, 'training config');
    return guard(this.ctx.file, () => {
      if (this.datasetStmt.get(input.datasetId) === undefined) throw new Error(`no dataset with id ${input.datasetId}`);
      const info = this.createStmt.run(
        input.datasetId,
        input.config.model,
        JSON.stringify(input.config),
        nowIso(),
        process.pid,
        os.hostname(),
        input.tuningSessionId ?? null,
      );
      return this.toRecord(this.getStmt.get(Number(info.lastInsertRowid))!);
    });
  }

  /** queued → running; records the backend and makes this process the owner. */
  markRunning(id: number, backend: BackendReport): void {
    checkInput(backendSkipsSchema, backend.skipped, 'backend report');
    guard(this.ctx.file, () => {
      const info = this.runningStmt.run(
        nowIso(),
        backend.name,
        backend.rung ?? null,
        backend.device,
        JSON.stringify(backend.skipped),
        process.pid,
        os.hostname(),
        id,
      );
      if (info.changes === 0) throw new Error(`run ${id} cannot start: it is ${this.describeStatus(id)}, not queued`);
    });
  }

  /**
   * queued/running → `status`, with ended_at set. Returns false (and changes nothing) when the
   * run had already ended, e.g. a stop that races with completion.
   * @throws Error for an unknown run id or a status that is not final.
   */
  finish(id: number, status: FinalRunStatus, error?: string): boolean {
    if (!FINAL_STATUSES.includes(status)) throw new Error(`"${status}" is not a final run status`);
    return guard(this.ctx.file, () => {
      const info = this.finishStmt.run(status, error ?? null, nowIso(), id);
      if (info.changes > 0) return true;
      if (this.statusStmt.get(id) === undefined) throw new Error(`no run with id ${id}`);
      return false;
    });
  }

  /** Sets the given summary fields; the others are left as they are. */
  updateSummary(id: number, s: Partial<RunSummary>): void {
    const keys = (Object.keys(SUMMARY_COLUMNS) as (keyof RunSummary)[]).filter((k) => s[k] !== undefined);
    for (const k of keys) {
      const v = s[k]!;
      if (typeof v !== 'number' || (k === 'steps' && !Number.isInteger(v))) {
        throw new Error(`invalid run summary: ${k} must be ${k === 'steps' ? 'an integer' : 'a number'}`);
      }
    }
    guard(this.ctx.file, () => {
      if (keys.length === 0) {
        if (this.statusStmt.get(id) === undefined) throw new Error(`no run with id ${id}`);
        return;
      }
      const sets = keys.map((k) => `${SUMMARY_COLUMNS[k]} = ?`).join(', ');
      const info = this.ctx.db.prepare(`UPDATE runs SET ${sets} WHERE id = ?`).run(...keys.map((k) => s[k]!), id);
      if (info.changes === 0) throw new Error(`no run with id ${id}`);
    });
  }

  get(id: number): RunRecord | undefined {
    return guard(this.ctx.file, () => {
      const row = this.getStmt.get(id);
      return row === undefined ? undefined : this.toRecord(row);
    });
  }

  /** Runs matching every given field, newest first. */
  list(filter: RunFilter = {}): RunRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.datasetId !== undefined) {
      where.push('r.dataset_id = ?');
      params.push(filter.datasetId);
    }
    if (filter.status !== undefined) {
      where.push('r.status = ?');
      params.push(filter.status);
    }
    if (filter.model !== undefined) {
      where.push('r.model = ?');
      params.push(filter.model);
    }
    const sql = `${SELECT}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC`;
    return guard(this.ctx.file, () => {
      let stmt = this.listStmts.get(sql);
      if (stmt === undefined) {
        stmt = this.ctx.db.prepare<unknown[], RunRow>(sql);
        this.listStmts.set(sql, stmt);
      }
      return stmt.all(...params).map((r) => this.toRecord(r));
    });
  }

  private describeStatus(id: number): string {
    const row = this.statusStmt.get(id);
    return row === undefined ? 'unknown' : row.status;
  }

  private toRecord(row: RunRow): RunRecord {
    const ref = (column: string) => ({ what: `run ${row.id}`, column, file: this.ctx.file });
    const distributed = distributedOf(row, this.ctx.file);
    return {
      id: row.id,
      datasetId: row.dataset_id,
      datasetName: row.dataset_name,
      model: checkColumn(modelKindSchema, row.model, ref('model')),
      config: parseJsonColumn(trainConfigSchema, row.config, ref('config')),
      status: checkColumn(runStatusSchema, row.status, ref('status')),
      backend: row.backend,
      rung: storedRung(row.rung),
      device: row.device,
      backendSkipped: parseJsonColumn(backendSkipsSchema, row.backend_skipped, ref('backend_skipped')),
      createdAt: row.created_at,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      trainSeconds: row.train_seconds,
      bestValAccuracy: row.best_val_accuracy,
      finalValAccuracy: row.final_val_accuracy,
      samplesPerSecond: row.samples_per_second,
      steps: row.steps,
      error: row.error,
      tuningSessionId: row.tuning_session_id,
      ...(distributed ? { distributed } : {}),
    };
  }
}

/** Whether the process `pid` on this host still exists. This process counts as alive. */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Turns 'queued'/'running' runs whose owner is gone (another host, or a pid that no longer
 * exists) into 'interrupted'. Returns their ids, in id order.
 */
export function processGone(pid: number | null, host: string | null): boolean {
  return host !== os.hostname() || pid === null || !processAlive(pid);
}

export function recoverInterrupted(ctx: StoreContext): number[] {
  const { db } = ctx;
  const recover = db.transaction((): number[] => {
    const candidates = db
      .prepare<[], { id: number; owner_pid: number | null; owner_host: string | null }>(
        "SELECT id, owner_pid, owner_host FROM runs WHERE status IN ('queued', 'running') ORDER BY id",
      )
      .all();
    const gone = candidates.filter((r) => processGone(r.owner_pid, r.owner_host));
    const mark = db.prepare<[string, string, number]>(
      "UPDATE runs SET status = 'interrupted', error = ?, ended_at = ? WHERE id = ? AND status IN ('queued', 'running')",
    );
    const now = nowIso();
    for (const r of gone) mark.run(INTERRUPTED_MESSAGE, now, r.id);
    return gone.map((r) => r.id);
  });
  return recover.immediate();
}
