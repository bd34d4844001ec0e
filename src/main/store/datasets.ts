import type Database from 'better-sqlite3';
import type { DatasetKind, DatasetManifest } from '../../shared/dataset-types.js';
import type { StoreContext } from './context.js';
import { nowIso } from './context.js';
import { DatasetNameTakenError, guard, isConstraint } from './errors.js';
import { checkColumn, checkInput, contentHashSchema, datasetKindSchema, manifestSchema, parseJsonColumn } from './schemas.js';

export interface DatasetRecord {
  id: number;
  name: string;
  kind: DatasetKind;
  source: string;
  cacheDir: string;
  createdAt: string;
  manifest: DatasetManifest;
  /** sha256 of the cached samples, labels and split (engine/datasets/content-hash.ts); null until computed (datasets imported before it was kept). */
  contentHash: string | null;
}

interface DatasetRow {
  id: number;
  name: string;
  kind: string;
  source: string;
  cache_dir: string;
  manifest: string;
  created_at: string;
  content_hash: string | null;
}

const COLUMNS = 'id, name, kind, source, cache_dir, manifest, created_at, content_hash';

export class DatasetRepo {
  private readonly insertStmt: Database.Statement<[string, string, string, string, string, string, string | null]>;
  private readonly listStmt: Database.Statement<[], DatasetRow>;
  private readonly getStmt: Database.Statement<[number], DatasetRow>;
  private readonly byNameStmt: Database.Statement<[string], DatasetRow>;
  private readonly nameTakenStmt: Database.Statement<[string], { one: number }>;
  private readonly activeRunsStmt: Database.Statement<[number], { n: number }>;
  private readonly deleteStmt: Database.Statement<[number]>;

  constructor(private readonly ctx: StoreContext) {
    const db = ctx.db;
    this.insertStmt = db.prepare('INSERT INTO datasets (name, kind, source, cache_dir, manifest, created_at, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.listStmt = db.prepare(`SELECT ${COLUMNS} FROM datasets ORDER BY id`);
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM datasets WHERE id = ?`);
    this.byNameStmt = db.prepare(`SELECT ${COLUMNS} FROM datasets WHERE name = ?`);
    this.nameTakenStmt = db.prepare('SELECT 1 AS one FROM datasets WHERE name = ?');
    this.activeRunsStmt = db.prepare("SELECT count(*) AS n FROM runs WHERE dataset_id = ? AND status IN ('queued', 'running')");
    this.deleteStmt = db.prepare('DELETE FROM datasets WHERE id = ?');
  }

  /**
   * Records an imported dataset under manifest.name.
   * @throws DatasetNameTakenError when the name is used (pick one with uniqueName()).
   */
  insert(manifest: DatasetManifest, cacheDir: string, contentHash: string | null = null): DatasetRecord {
    checkInput(manifestSchema, manifest, 'dataset manifest');
    if (contentHash !== null) checkInput(contentHashSchema, contentHash, 'dataset content hash');
    return guard(this.ctx.file, () => {
      let id: number;
      try {
        const info = this.insertStmt.run(manifest.name, manifest.kind, manifest.source, cacheDir, JSON.stringify(manifest), nowIso(), contentHash);
        id = Number(info.lastInsertRowid);
      } catch (err) {
        if (isConstraint(err, 'UNIQUE')) throw new DatasetNameTakenError(manifest.name);
        throw err;
      }
      return this.toRecord(this.getStmt.get(id)!);
    });
  }

  /** Records the content hash of a dataset imported before hashes were kept (computed from its cache folder). */
  setContentHash(id: number, contentHash: string): void {
    checkInput(contentHashSchema, contentHash, 'dataset content hash');
    guard(this.ctx.file, () => this.ctx.db.prepare('UPDATE datasets SET content_hash = ? WHERE id = ?').run(contentHash, id));
  }

  /** All datasets, oldest first. */
  list(): DatasetRecord[] {
    return guard(this.ctx.file, () => this.listStmt.all().map((r) => this.toRecord(r)));
  }

  get(id: number): DatasetRecord | undefined {
    return guard(this.ctx.file, () => {
      const row = this.getStmt.get(id);
      return row === undefined ? undefined : this.toRecord(row);
    });
  }

  /** A string of digits is tried as an id first, then as a name. */
  resolve(idOrName: string): DatasetRecord | undefined {
    return guard(this.ctx.file, () => {
      if (/^\d+$/.test(idOrName)) {
        const byId = this.getStmt.get(Number(idOrName));
        if (byId !== undefined) return this.toRecord(byId);
      }
      const row = this.byNameStmt.get(idOrName);
      return row === undefined ? undefined : this.toRecord(row);
    });
  }

  /**
   * Deletes the dataset's record and, through ON DELETE CASCADE, its runs, their metrics and
   * artifact records (files on disk are the caller's to remove). Refused while one of its runs
   * is queued or running. Unknown ids are ignored.
   */
  remove(id: number): void {
    guard(this.ctx.file, () => {
      this.ctx.db
        .transaction(() => {
          const active = this.activeRunsStmt.get(id)!.n;
          if (active > 0) {
            throw new Error(`dataset ${id} has ${active} queued or running run(s); stop them before removing it`);
          }
          this.deleteStmt.run(id);
        })
        .immediate();
    });
  }

  /** `base` if free, else the first free one of base-2, base-3, … */
  uniqueName(base: string): string {
    return guard(this.ctx.file, () => {
      if (this.nameTakenStmt.get(base) === undefined) return base;
      for (let n = 2; ; n++) {
        const candidate = `${base}-${n}`;
        if (this.nameTakenStmt.get(candidate) === undefined) return candidate;
      }
    });
  }

  private toRecord(row: DatasetRow): DatasetRecord {
    const ref = (column: string) => ({ what: `dataset ${row.id}`, column, file: this.ctx.file });
    return {
      id: row.id,
      name: row.name,
      kind: checkColumn(datasetKindSchema, row.kind, ref('kind')),
      source: row.source,
      cacheDir: row.cache_dir,
      createdAt: row.created_at,
      manifest: parseJsonColumn(manifestSchema, row.manifest, ref('manifest')),
      contentHash: row.content_hash === null ? null : checkColumn(contentHashSchema, row.content_hash, ref('content_hash')),
    };
  }
}
