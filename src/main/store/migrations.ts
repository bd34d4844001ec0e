// Schema migrations, in the style of Signal Desktop's ts/sql/migrations: an ordered list, each
// entry bringing the schema to its `version`. All pending entries run in ONE immediate
// transaction that also sets PRAGMA user_version, so a failure leaves the file as it was.
// Adding a migration = appending one entry to MIGRATIONS (e.g. version 2: tuning sessions).

import type Database from 'better-sqlite3';
import path from 'node:path';
import { RUN_STATUSES } from '../../shared/run-types.js';
import { TUNING_STATUSES } from '../../shared/tuning-types.js';
import { StoreError } from './errors.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

const statusList = RUN_STATUSES.map((s) => `'${s}'`).join(', ');
const tuningStatusList = TUNING_STATUSES.map((s) => `'${s}'`).join(', ');

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'datasets, runs, metrics, artifacts',
    up(db) {
      db.exec(`
        CREATE TABLE datasets (
          id         INTEGER PRIMARY KEY,
          name       TEXT NOT NULL UNIQUE,
          kind       TEXT NOT NULL,
          source     TEXT NOT NULL,
          cache_dir  TEXT NOT NULL,
          manifest   TEXT NOT NULL,
          created_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE runs (
          id                 INTEGER PRIMARY KEY,
          dataset_id         INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
          model              TEXT NOT NULL,
          config             TEXT NOT NULL,
          status             TEXT NOT NULL CHECK (status IN (${statusList})),
          backend            TEXT,
          device             TEXT,
          backend_skipped    TEXT NOT NULL DEFAULT '[]',
          created_at         TEXT NOT NULL,
          started_at         TEXT,
          ended_at           TEXT,
          train_seconds      REAL,
          best_val_accuracy  REAL,
          final_val_accuracy REAL,
          samples_per_second REAL,
          steps              INTEGER NOT NULL DEFAULT 0,
          error              TEXT,
          owner_pid          INTEGER,
          owner_host         TEXT
        ) STRICT;
        CREATE INDEX runs_dataset ON runs(dataset_id);
        CREATE INDEX runs_status ON runs(status);
        CREATE INDEX runs_model ON runs(model);

        -- value NULL stands for NaN (SQLite stores NaN as NULL).
        CREATE TABLE metrics (
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          step   INTEGER NOT NULL,
          epoch  INTEGER NOT NULL,
          time   REAL NOT NULL,
          name   TEXT NOT NULL,
          value  REAL,
          PRIMARY KEY (run_id, name, step)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE artifacts (
          id         INTEGER PRIMARY KEY,
          run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          kind       TEXT NOT NULL,
          path       TEXT NOT NULL,
          bytes      INTEGER NOT NULL,
          created_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX artifacts_run ON artifacts(run_id);
      `);
    },
  },
  {
    version: 2,
    name: 'tuning sessions and their trials',
    up(db) {
      db.exec(`
        CREATE TABLE tuning_sessions (
          id             INTEGER PRIMARY KEY,
          dataset_id     INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
          model          TEXT NOT NULL,
          mode           TEXT NOT NULL CHECK (mode IN ('quick', 'full')),
          request        TEXT NOT NULL,
          status         TEXT NOT NULL CHECK (status IN (${tuningStatusList})),
          backend        TEXT,
          device         TEXT,
          budget_bytes   REAL,
          report         TEXT,
          error          TEXT,
          created_at     TEXT NOT NULL,
          ended_at       TEXT,
          search_seconds REAL,
          owner_pid      INTEGER,
          owner_host     TEXT
        ) STRICT;
        CREATE INDEX tuning_sessions_dataset ON tuning_sessions(dataset_id);

        -- One row per probe: memory, throughput, noise or trial, whatever became of it.
        CREATE TABLE tuning_trials (
          id            INTEGER PRIMARY KEY,
          session_id    INTEGER NOT NULL REFERENCES tuning_sessions(id) ON DELETE CASCADE,
          seq           INTEGER NOT NULL,
          kind          TEXT NOT NULL,
          batch_size    INTEGER NOT NULL,
          learning_rate REAL,
          status        TEXT NOT NULL,
          result        TEXT NOT NULL DEFAULT '{}',
          cause         TEXT,
          seconds       REAL NOT NULL DEFAULT 0,
          created_at    TEXT NOT NULL,
          UNIQUE (session_id, seq)
        ) STRICT;

        ALTER TABLE runs ADD COLUMN tuning_session_id INTEGER REFERENCES tuning_sessions(id) ON DELETE SET NULL;
      `);
    },
  },
  {
    version: 3,
    name: 'the backend rung a run or tuning session ran on',
    up(db) {
      // The concrete choice ('torch-cpu', 'wasm', 'webgpu'…) that `auto` resolved to, which
      // "Train with this" trains on; NULL in rows stored before it was kept (their backend name
      // stands in).
      db.exec('ALTER TABLE tuning_sessions ADD COLUMN rung TEXT; ALTER TABLE runs ADD COLUMN rung TEXT;');
    },
  },
  {
    version: 4,
    name: 'resumed runs: their events, attempts, and the metrics of redone steps kept apart',
    up(db) {
      db.exec(`
        -- A resume, an out-of-memory step-down: shown on the run's page and charts.
        CREATE TABLE run_events (
          id         INTEGER PRIMARY KEY,
          run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          kind       TEXT NOT NULL,
          step       INTEGER NOT NULL,
          time       REAL NOT NULL,
          attempt    INTEGER NOT NULL,
          detail     TEXT NOT NULL DEFAULT '{}',
          created_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX run_events_run ON run_events(run_id);

        -- Metrics of steps an attempt did after the checkpoint the next attempt resumed from: the
        -- next attempt redoes them, so they leave the run's series (no step twice) but are kept.
        CREATE TABLE discarded_metrics (
          run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          attempt INTEGER NOT NULL,
          step    INTEGER NOT NULL,
          epoch   INTEGER NOT NULL,
          time    REAL NOT NULL,
          name    TEXT NOT NULL,
          value   REAL,
          PRIMARY KEY (run_id, attempt, name, step)
        ) STRICT, WITHOUT ROWID;

        ALTER TABLE runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
      `);
    },
  },
  {
    version: 5,
    name: "a tuning's fingerprint, and the content hash of a dataset",
    up(db) {
      // fingerprint: JSON (shared/tuning-fingerprint.ts), what the search's measurements depended
      // on; NULL in sessions stored before it was kept, which read as "fingerprint unknown" and
      // are never guessed fresh or stale. content_hash: sha256 of a dataset's cached samples,
      // labels and split, computed at import; NULL in datasets imported before, computed from
      // their cache folder the first time a fingerprint needs it.
      db.exec('ALTER TABLE tuning_sessions ADD COLUMN fingerprint TEXT; ALTER TABLE datasets ADD COLUMN content_hash TEXT;');
    },
  },
  {
    version: 6,
    name: 'runs trained elsewhere and imported: their provenance',
    up(db) {
      // One row per imported run (a distributed recipe's PyTorch DDP run): the engine and its
      // workers, the world and the plan it came from (detail: JSON, shared/api/data.ts's
      // DistributedRun less the columns), the file it was read from and that file's sha256, so
      // the same file is not stored twice. Runs trained here have none.
      db.exec(`
        CREATE TABLE run_imports (
          run_id        INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
          engine        TEXT NOT NULL,
          workers       INTEGER NOT NULL,
          detail        TEXT NOT NULL,
          imported_from TEXT NOT NULL,
          sha256        TEXT NOT NULL UNIQUE,
          partial       INTEGER NOT NULL DEFAULT 0,
          imported_at   TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
];

export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
}

function checkOrder(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= previous) {
      throw new Error(`store migrations out of order: version ${m.version} (${m.name}) follows ${previous}`);
    }
    previous = m.version;
  }
}

export function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function newerDatabaseError(file: string, found: number, latest: number): StoreError {
  return new StoreError(
    'newer-database',
    `${path.basename(file)} is at schema version ${found}, newer than this app understands (${latest}); update AutoBatch Studio`,
    { file },
  );
}

/** Applies every pending migration in one transaction; returns the resulting user_version. */
export function migrate(db: Database.Database, migrations: readonly Migration[], file: string): number {
  checkOrder(migrations);
  const latest = latestVersion(migrations);
  const run = db.transaction((): number => {
    // Re-read under the write lock: another process may have migrated meanwhile.
    const current = userVersion(db);
    if (current > latest) throw newerDatabaseError(file, current, latest);
    for (const m of migrations) {
      if (m.version <= current) continue;
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }
    return userVersion(db);
  });
  return run.immediate();
}
