// The store: one SQLite file (autobatch.db) in the app's home folder — docs/architecture.md §6.
//
// openStore() creates the folders, opens the database (WAL, synchronous=NORMAL, foreign keys,
// 5 s busy timeout), refuses a database newer than the app, applies pending migrations in one
// transaction, and turns runs left queued/running by a dead process into 'interrupted'.
//
// Errors: StoreError for the file itself ('newer-database' | 'corrupt' | 'locked' | 'readonly'
// | 'disk-full' | 'io'), including a row whose JSON column is damaged ('corrupt');
// DatasetNameTakenError for a dataset name clash; plain Error for caller mistakes (unknown ids,
// invalid input, a run that cannot make the requested status change).

import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { ArtifactRepo } from './artifacts.js';
import type { StoreContext } from './context.js';
import { DatasetRepo } from './datasets.js';
import { StoreError, toStoreError } from './errors.js';
import { MetricRepo } from './metrics.js';
import { latestVersion, migrate, MIGRATIONS, newerDatabaseError, userVersion } from './migrations.js';
import type { Migration } from './migrations.js';
import { RemovalRepo } from './removal.js';
import { processGone, recoverInterrupted, RunRepo } from './runs.js';
import { TuningRepo } from './tuning.js';
import { RunEventRepo } from './run-events.js';
import { RunImportRepo } from './run-imports.js';
import { DATABASE_FILE, storePaths, type StorePaths } from './paths.js';

export { StoreError, DatasetNameTakenError } from './errors.js';
export type { StoreErrorCode } from './errors.js';
export { defaultHome, defaultHomeFor, storePaths } from './paths.js';
export { MIGRATIONS } from './migrations.js';
export type { Migration } from './migrations.js';
export { DatasetRepo } from './datasets.js';
export type { DatasetRecord } from './datasets.js';
export { RunRepo, INTERRUPTED_MESSAGE, processAlive, processGone } from './runs.js';
export type { RunRecord, RunFilter, RunSummary, FinalRunStatus } from './runs.js';
export { MetricRepo, downsampleMinMax, CSV_METRICS } from './metrics.js';
export type { SeriesPoint } from './metrics.js';
export { ArtifactRepo } from './artifacts.js';
export { TuningRepo } from './tuning.js';
export { RunEventRepo } from './run-events.js';
export type { NewRunEvent } from './run-events.js';
export { RunImportRepo } from './run-imports.js';
export type { NewImportedRun, MetricRow } from './run-imports.js';
export { RemovalRepo } from './removal.js';
export type { RemovalPlan, RemovalTarget, JobRow } from './removal.js';
export type { TuningSessionRecord } from './tuning.js';
export type { ArtifactRecord } from './artifacts.js';
export type { ArtifactKind } from './schemas.js';

export { DATABASE_FILE } from './paths.js';
export type { StorePaths } from './paths.js';

export interface Store {
  readonly paths: StorePaths;
  readonly datasets: DatasetRepo;
  readonly runs: RunRepo;
  readonly metrics: MetricRepo;
  readonly artifacts: ArtifactRepo;
  readonly tuning: TuningRepo;
  /** A run's events (resumes, out-of-memory step-downs) and the reopening of a run for its next attempt. */
  readonly events: RunEventRepo;
  /** Deleting a dataset, run or tuning session with the rows that go with it. */
  readonly removal: RemovalRepo;
  /** Runs trained elsewhere and imported, with their provenance. */
  readonly imports: RunImportRepo;
  readonly schemaVersion: number;
  /** Runs left running/queued by a process that is gone, turned 'interrupted' at open. */
  readonly recovered: number[];
  close(): void;
}

interface OpenStoreOptions {
  /** Turn runs whose owning process is gone into 'interrupted' (default true). */
  recoverInterrupted?: boolean;
  /** Migration list to apply instead of MIGRATIONS — for tests only. */
  migrations?: readonly Migration[];
}

function makeDirs(paths: StorePaths): void {
  for (const dir of [paths.home, paths.datasetsDir, paths.artifactsDir]) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw toStoreError(err, dir);
    }
  }
}

export function openStore(home: string, options: OpenStoreOptions = {}): Store {
  const paths = storePaths(home);
  const root = paths.home;
  const migrations = options.migrations ?? MIGRATIONS;
  const latest = latestVersion(migrations);
  makeDirs(paths);

  const file = paths.database;
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    // Connection-only settings first; nothing is written before the version check.
    db.pragma('busy_timeout = 5000');
    const found = userVersion(db); // also where a non-database file is detected
    if (found > latest) throw newerDatabaseError(file, found, latest);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreError('io', `${file} could not be switched to WAL journaling (got ${String(mode)})`, { file });
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const schemaVersion = migrate(db, migrations, file);
    const ctx: StoreContext = { db, file };
    const recovered = options.recoverInterrupted === false ? [] : recoverInterrupted(ctx);
    if (options.recoverInterrupted !== false && schemaVersion >= 2) new TuningRepo(ctx).recoverInterrupted(processGone);
    return new OpenStore(paths, ctx, schemaVersion, recovered);
  } catch (err) {
    try {
      db?.close();
    } catch {
      // already failing; keep the first error
    }
    throw readOnlyFolderError(toStoreError(err, file), root);
  }
}

/**
 * SQLite says only "unable to open database file" when the folder is read-only (WAL needs to
 * create its -wal and -shm files beside the database): name the real cause.
 */
function readOnlyFolderError(err: unknown, folder: string): unknown {
  if (!(err instanceof StoreError) || (err.code !== 'io' && err.code !== 'readonly')) return err;
  try {
    fs.accessSync(folder, fs.constants.W_OK);
    return err;
  } catch (access) {
    const code = (access as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'is on a read-only file system' : 'cannot be written';
    return new StoreError(
      'readonly',
      `the data folder ${folder} ${why}, so ${path.basename(err.file ?? DATABASE_FILE)} cannot be opened (${err.message}); make it writable, or choose another data folder with --home or AUTOBATCH_HOME`,
      { file: err.file, cause: err },
    );
  }
}

class OpenStore implements Store {
  readonly datasets: DatasetRepo;
  readonly runs: RunRepo;
  readonly metrics: MetricRepo;
  readonly artifacts: ArtifactRepo;
  readonly tuning: TuningRepo;
  readonly events: RunEventRepo;
  readonly removal: RemovalRepo;
  readonly imports: RunImportRepo;

  constructor(
    readonly paths: StorePaths,
    private readonly ctx: StoreContext,
    readonly schemaVersion: number,
    readonly recovered: number[],
  ) {
    this.datasets = new DatasetRepo(ctx);
    this.runs = new RunRepo(ctx);
    this.metrics = new MetricRepo(ctx);
    this.artifacts = new ArtifactRepo(ctx);
    this.tuning = new TuningRepo(ctx);
    this.events = new RunEventRepo(ctx);
    this.removal = new RemovalRepo(ctx);
    this.imports = new RunImportRepo(ctx);
  }

  /** Closes the connection; calling it again does nothing. */
  close(): void {
    if (!this.ctx.db.open) return;
    try {
      this.ctx.db.pragma('optimize');
    } catch {
      // best effort
    }
    this.ctx.db.close();
  }
}
