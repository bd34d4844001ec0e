// Runs trained elsewhere and imported (a distributed recipe's PyTorch DDP run): the run row, its
// metrics and its provenance are written in ONE immediate transaction, so a refusal or a failure
// half-way leaves the store as it was. The file's sha256 is unique: the same file is stored once.
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { DistributedRun } from '../../shared/api/data.js';
import { distributedRunSchema } from '../../shared/api/data.js';
import type { TrainConfig } from '../../shared/run-types.js';
import type { StoreContext } from './context.js';
import { nowIso } from './context.js';
import { guard } from './errors.js';
import { checkInput, parseJsonColumn, trainConfigSchema } from './schemas.js';
import type { FinalRunStatus, RunSummary } from './runs.js';

/** One stored metric value; null stands for NaN (as SQLite keeps it). */
export interface MetricRow {
  step: number;
  epoch: number;
  time: number;
  name: string;
  value: number | null;
}

/** What the provenance's JSON column holds: the DistributedRun less what has a column of its own. */
const detailSchema = z.object({
  worldBackend: distributedRunSchema.shape.worldBackend,
  device: distributedRunSchema.shape.device,
  torchVersion: distributedRunSchema.shape.torchVersion,
  origin: distributedRunSchema.shape.origin,
  plan: distributedRunSchema.shape.plan,
  fromWeights: distributedRunSchema.shape.fromWeights,
});

export interface NewImportedRun {
  datasetId: number;
  config: TrainConfig;
  status: FinalRunStatus;
  error: string | null;
  /** The runs.backend column ('pytorch-ddp') and device. */
  backend: string;
  device: string;
  startedAt: string;
  endedAt: string | null;
  summary: Omit<RunSummary, 'bestValAccuracy' | 'finalValAccuracy'> & { bestValAccuracy: number | null; finalValAccuracy: number | null };
  /** The tuning session whose plan it trained with (the origin, when a tuning), else null. */
  tuningSessionId: number | null;
  metrics: readonly MetricRow[];
  provenance: Omit<DistributedRun, 'importedAt'>;
}

/** The columns RunRepo's SELECT joins in (LEFT JOIN run_imports i). */
export const IMPORT_COLUMNS =
  'i.engine AS import_engine, i.workers AS import_workers, i.detail AS import_detail, i.imported_from, i.sha256 AS import_sha256, i.partial AS import_partial, i.imported_at';

export interface ImportColumns {
  import_engine: string | null;
  import_workers: number | null;
  import_detail: string | null;
  imported_from: string | null;
  import_sha256: string | null;
  import_partial: number | null;
  imported_at: string | null;
}

/** A joined row's provenance, or undefined for a run trained here. */
export function distributedOf(row: ImportColumns & { id: number }, file: string): DistributedRun | undefined {
  if (row.import_detail === null) return undefined;
  const ref = { what: `run ${row.id}`, column: 'run_imports.detail', file };
  const detail = parseJsonColumn(detailSchema, row.import_detail, ref);
  return parseJsonColumn(
    distributedRunSchema,
    JSON.stringify({
      engine: row.import_engine,
      workers: row.import_workers,
      ...detail,
      importedFrom: row.imported_from,
      importedAt: row.imported_at,
      sha256: row.import_sha256,
      partial: row.import_partial === 1,
    }),
    { ...ref, column: 'run_imports' },
  );
}

export class RunImportRepo {
  private readonly byShaStmt: Database.Statement<[string], { run_id: number }>;
  private readonly runStmt: Database.Statement<unknown[]>;
  private readonly metricStmt: Database.Statement<[number, number, number, number, string, number | null]>;
  private readonly importStmt: Database.Statement<[number, string, number, string, string, string, number, string]>;

  constructor(private readonly ctx: StoreContext) {
    const db = ctx.db;
    this.byShaStmt = db.prepare('SELECT run_id FROM run_imports WHERE sha256 = ?');
    this.runStmt = db.prepare(
      `INSERT INTO runs (dataset_id, model, config, status, backend, rung, device, created_at, started_at, ended_at, train_seconds,
         best_val_accuracy, final_val_accuracy, samples_per_second, steps, error, owner_pid, owner_host, tuning_session_id)
       VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)`,
    );
    this.metricStmt = db.prepare('INSERT INTO metrics (run_id, step, epoch, time, name, value) VALUES (?, ?, ?, ?, ?, ?)');
    this.importStmt = db.prepare(
      `INSERT INTO run_imports (run_id, engine, workers, detail, imported_from, sha256, partial, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /** The run a file with this sha256 was imported as, if any. */
  runWithSha256(sha256: string): number | undefined {
    return guard(this.ctx.file, () => this.byShaStmt.get(sha256)?.run_id);
  }

  /**
   * Stores the run, its metrics and its provenance in one transaction. Answers the run that
   * already holds this file (by sha256) instead, storing nothing.
   */
  insert(input: NewImportedRun): { runId: number } | { duplicateOf: number } {
    checkInput(trainConfigSchema, input.config, 'training config');
    checkInput(distributedRunSchema.omit({ importedAt: true }), input.provenance, 'provenance');
    const p = input.provenance;
    const write = (): { runId: number } | { duplicateOf: number } => {
      const existing = this.byShaStmt.get(p.sha256);
      if (existing) return { duplicateOf: existing.run_id };
      const s = input.summary;
      const now = nowIso();
      const info = this.runStmt.run(
        input.datasetId,
        input.config.model,
        JSON.stringify(input.config),
        input.status,
        input.backend,
        input.device,
        now,
        input.startedAt,
        input.endedAt,
        s.trainSeconds,
        s.bestValAccuracy,
        s.finalValAccuracy,
        s.samplesPerSecond,
        s.steps,
        input.error,
        input.tuningSessionId,
      );
      const runId = Number(info.lastInsertRowid);
      for (const m of input.metrics) this.metricStmt.run(runId, m.step, m.epoch, m.time, m.name, m.value);
      const detail = {
        worldBackend: p.worldBackend,
        device: p.device,
        torchVersion: p.torchVersion,
        origin: p.origin,
        plan: p.plan,
        fromWeights: p.fromWeights,
      };
      this.importStmt.run(runId, p.engine, p.workers, JSON.stringify(detail), p.importedFrom, p.sha256, p.partial ? 1 : 0, now);
      return { runId };
    };
    return guard(this.ctx.file, () => this.ctx.db.transaction(write).immediate());
  }
}
