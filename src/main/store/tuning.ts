// Tuning sessions (one per Auto-tune) and every probe they ran, kept with the report so the
// choice can be explained later, offline.
import type Database from 'better-sqlite3';
import os from 'node:os';
import { z } from 'zod';
import type { BackendReport, ConcreteBackend, RunModel } from '../../shared/run-types.js';
import { TRIAL_KINDS, TRIAL_STATUSES, TUNING_MODES, TUNING_STATUSES } from '../../shared/tuning-types.js';
import type { TrialRecord, TuningMode, TuningReport, TuningRequest, TuningStatus } from '../../shared/tuning-types.js';
import type { StoreContext } from './context.js';
import { nowIso } from './context.js';
import { guard, isConstraint } from './errors.js';
import { checkColumn, checkInput, modelKindSchema, parseJsonColumn, storedFingerprint, storedRung } from './schemas.js';
import { tuningFingerprintSchema, type TuningFingerprint } from '../../shared/tuning-fingerprint.js';

export interface TuningSessionRecord {
  id: number;
  datasetId: number;
  datasetName: string;
  model: RunModel;
  mode: TuningMode;
  request: TuningRequest;
  status: TuningStatus;
  backend: string | null;
  /** The concrete backend choice the search ran on ('wasm', 'webgpu'…); null before it started, and in sessions stored before it was kept. */
  rung: ConcreteBackend | null;
  device: string | null;
  budgetBytes: number | null;
  report: TuningReport | null;
  error: string | null;
  createdAt: string;
  endedAt: string | null;
  searchSeconds: number | null;
  /** What the measurements depended on (shared/tuning-fingerprint.ts); null in sessions stored before it was kept, and until the search ends. */
  fingerprint: TuningFingerprint | null;
}

interface SessionRow {
  id: number;
  dataset_id: number;
  dataset_name: string;
  model: string;
  mode: string;
  request: string;
  status: string;
  backend: string | null;
  rung: string | null;
  device: string | null;
  budget_bytes: number | null;
  report: string | null;
  error: string | null;
  created_at: string;
  ended_at: string | null;
  search_seconds: number | null;
  fingerprint: string | null;
}

interface TrialRow {
  seq: number;
  kind: string;
  batch_size: number;
  learning_rate: number | null;
  status: string;
  result: string;
  cause: string | null;
  seconds: number;
}

// Stored JSON is checked for its shape, loosely: a newer app may add fields.
const requestSchema = z.looseObject({ model: z.string(), mode: z.enum(TUNING_MODES), baseBatchSize: z.number(), baseLearningRate: z.number() });
const reportSchema = z.looseObject({
  recommendation: z.looseObject({ batchSize: z.number(), learningRate: z.number() }),
  reasons: z.array(z.string()),
  curves: z.array(z.looseObject({ batchSize: z.number() })),
});
const resultSchema = z.record(z.string(), z.unknown());

const SELECT = `SELECT t.id, t.dataset_id, d.name AS dataset_name, t.model, t.mode, t.request, t.status, t.backend, t.rung, t.device,
  t.budget_bytes, t.report, t.error, t.created_at, t.ended_at, t.search_seconds, t.fingerprint
  FROM tuning_sessions t JOIN datasets d ON d.id = t.dataset_id`;

export class TuningRepo {
  private readonly insertStmt: Database.Statement<[number, string, string, string, string, number, string]>;
  private readonly getStmt: Database.Statement<[number], SessionRow>;
  private readonly listStmt: Database.Statement<[], SessionRow>;
  private readonly trialStmt: Database.Statement<[number, number, string, number, number | null, string, string, string | null, number, string]>;
  private readonly trialsStmt: Database.Statement<[number], TrialRow>;

  constructor(private readonly ctx: StoreContext) {
    const db = ctx.db;
    this.insertStmt = db.prepare(
      `INSERT INTO tuning_sessions (dataset_id, model, mode, request, status, created_at, owner_pid, owner_host)
       VALUES (?, ?, ?, ?, 'running', ?, ?, ?)`,
    );
    this.getStmt = db.prepare(`${SELECT} WHERE t.id = ?`);
    this.listStmt = db.prepare(`${SELECT} ORDER BY t.id DESC`);
    this.trialStmt = db.prepare(
      `INSERT OR REPLACE INTO tuning_trials (session_id, seq, kind, batch_size, learning_rate, status, result, cause, seconds, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.trialsStmt = db.prepare(
      'SELECT seq, kind, batch_size, learning_rate, status, result, cause, seconds FROM tuning_trials WHERE session_id = ? ORDER BY seq',
    );
  }

  create(datasetId: number, request: TuningRequest): TuningSessionRecord {
    return guard(this.ctx.file, () => {
      let id: number;
      try {
        id = Number(this.insertStmt.run(datasetId, request.model, request.mode, JSON.stringify(request), nowIso(), process.pid, os.hostname()).lastInsertRowid);
      } catch (err) {
        if (isConstraint(err, 'FOREIGNKEY')) throw new Error(`no dataset with id ${datasetId}`);
        throw err;
      }
      return this.get(id)!;
    });
  }

  setBackend(id: number, backend: BackendReport, budgetBytes: number): void {
    guard(this.ctx.file, () =>
      this.ctx.db
        .prepare('UPDATE tuning_sessions SET backend = ?, rung = ?, device = ?, budget_bytes = ? WHERE id = ?')
        .run(backend.name, backend.rung ?? null, backend.device, budgetBytes, id),
    );
  }

  /** Keeps what the search's measurements depended on (checked: it is compared field by field later). */
  setFingerprint(id: number, fingerprint: TuningFingerprint): void {
    const checked = checkInput(tuningFingerprintSchema, fingerprint, `fingerprint of tuning session ${id}`);
    guard(this.ctx.file, () => this.ctx.db.prepare('UPDATE tuning_sessions SET fingerprint = ? WHERE id = ?').run(JSON.stringify(checked), id));
  }

  addTrial(sessionId: number, trial: TrialRecord): void {
    guard(this.ctx.file, () =>
      this.trialStmt.run(
        sessionId,
        trial.seq,
        trial.kind,
        trial.batchSize,
        trial.learningRate,
        trial.status,
        JSON.stringify(trial.result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
        trial.cause,
        trial.seconds,
        nowIso(),
      ),
    );
  }

  /** Ends a running session; does nothing if it had already ended. */
  finish(id: number, status: Exclude<TuningStatus, 'running'>, outcome: { report?: TuningReport; error?: string; searchSeconds?: number }): void {
    guard(this.ctx.file, () =>
      this.ctx.db
        .prepare("UPDATE tuning_sessions SET status = ?, report = ?, error = ?, search_seconds = ?, ended_at = ? WHERE id = ? AND status = 'running'")
        .run(status, outcome.report ? JSON.stringify(outcome.report) : null, outcome.error ?? null, outcome.searchSeconds ?? null, nowIso(), id),
    );
  }

  get(id: number): TuningSessionRecord | undefined {
    return guard(this.ctx.file, () => {
      const row = this.getStmt.get(id);
      return row ? this.toRecord(row) : undefined;
    });
  }

  list(): TuningSessionRecord[] {
    return guard(this.ctx.file, () => this.listStmt.all().map((r) => this.toRecord(r)));
  }

  trials(sessionId: number): TrialRecord[] {
    return guard(this.ctx.file, () =>
      this.trialsStmt.all(sessionId).map((r) => ({
        seq: r.seq,
        kind: checkColumn(z.enum(TRIAL_KINDS), r.kind, { what: `trial ${r.seq} of tuning session ${sessionId}`, column: 'kind', file: this.ctx.file }),
        batchSize: r.batch_size,
        learningRate: r.learning_rate,
        status: checkColumn(z.enum(TRIAL_STATUSES), r.status, { what: `trial ${r.seq} of tuning session ${sessionId}`, column: 'status', file: this.ctx.file }),
        result: parseJsonColumn(resultSchema, r.result, { what: `trial ${r.seq} of tuning session ${sessionId}`, column: 'result', file: this.ctx.file }),
        cause: r.cause,
        seconds: r.seconds,
      })),
    );
  }

  /** Sessions left running by a process that is gone: interrupted, as runs are. */
  recoverInterrupted(isGone: (pid: number | null, host: string | null) => boolean): number[] {
    return guard(this.ctx.file, () => {
      const rows = this.ctx.db
        .prepare<[], { id: number; owner_pid: number | null; owner_host: string | null }>(
          "SELECT id, owner_pid, owner_host FROM tuning_sessions WHERE status = 'running'",
        )
        .all();
      const gone = rows.filter((r) => isGone(r.owner_pid, r.owner_host)).map((r) => r.id);
      const mark = this.ctx.db.prepare(
        "UPDATE tuning_sessions SET status = 'interrupted', error = 'the process running it ended unexpectedly', ended_at = ? WHERE id = ?",
      );
      for (const id of gone) mark.run(nowIso(), id);
      return gone;
    });
  }

  private toRecord(row: SessionRow): TuningSessionRecord {
    const ref = (column: string) => ({ what: `tuning session ${row.id}`, column, file: this.ctx.file });
    return {
      id: row.id,
      datasetId: row.dataset_id,
      datasetName: row.dataset_name,
      model: checkColumn(modelKindSchema, row.model, ref('model')),
      mode: checkColumn(z.enum(TUNING_MODES), row.mode, ref('mode')),
      request: parseJsonColumn(requestSchema, row.request, ref('request')) as unknown as TuningRequest,
      status: checkColumn(z.enum(TUNING_STATUSES), row.status, ref('status')),
      backend: row.backend,
      rung: storedRung(row.rung),
      device: row.device,
      budgetBytes: row.budget_bytes,
      report: row.report === null ? null : (parseJsonColumn(reportSchema, row.report, ref('report')) as unknown as TuningReport),
      error: row.error,
      createdAt: row.created_at,
      endedAt: row.ended_at,
      searchSeconds: row.search_seconds,
      fingerprint: storedFingerprint(row.fingerprint),
    };
  }
}
