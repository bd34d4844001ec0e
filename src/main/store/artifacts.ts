import type Database from 'better-sqlite3';
import type { StoreContext } from './context.js';
import { nowIso } from './context.js';
import { guard, isConstraint } from './errors.js';
import { artifactKindSchema, checkColumn, checkInput } from './schemas.js';
import type { ArtifactKind } from './schemas.js';

export interface ArtifactRecord {
  id: number;
  runId: number;
  kind: ArtifactKind;
  path: string;
  bytes: number;
  createdAt: string;
}

interface ArtifactRow {
  id: number;
  run_id: number;
  kind: string;
  path: string;
  bytes: number;
  created_at: string;
}

const COLUMNS = 'id, run_id, kind, path, bytes, created_at';

export class ArtifactRepo {
  private readonly insertStmt: Database.Statement<[number, string, string, number, string]>;
  private readonly getStmt: Database.Statement<[number], ArtifactRow>;
  private readonly forRunStmt: Database.Statement<[number], ArtifactRow>;

  constructor(private readonly ctx: StoreContext) {
    const db = ctx.db;
    this.insertStmt = db.prepare('INSERT INTO artifacts (run_id, kind, path, bytes, created_at) VALUES (?, ?, ?, ?, ?)');
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM artifacts WHERE id = ?`);
    this.forRunStmt = db.prepare(`SELECT ${COLUMNS} FROM artifacts WHERE run_id = ? ORDER BY id`);
  }

  add(a: { runId: number; kind: ArtifactKind; path: string; bytes: number }): ArtifactRecord {
    checkInput(artifactKindSchema, a.kind, 'artifact kind');
    if (!Number.isInteger(a.bytes) || a.bytes < 0) throw new Error(`invalid artifact size: ${a.bytes}`);
    return guard(this.ctx.file, () => {
      let id: number;
      try {
        id = Number(this.insertStmt.run(a.runId, a.kind, a.path, a.bytes, nowIso()).lastInsertRowid);
      } catch (err) {
        if (isConstraint(err, 'FOREIGNKEY')) throw new Error(`no run with id ${a.runId}`);
        throw err;
      }
      return this.toRecord(this.getStmt.get(id)!);
    });
  }

  /** The run's artifacts, oldest first. */
  listForRun(runId: number): ArtifactRecord[] {
    return guard(this.ctx.file, () => this.forRunStmt.all(runId).map((r) => this.toRecord(r)));
  }

  private toRecord(row: ArtifactRow): ArtifactRecord {
    return {
      id: row.id,
      runId: row.run_id,
      kind: checkColumn(artifactKindSchema, row.kind, { what: `artifact ${row.id}`, column: 'kind', file: this.ctx.file }),
      path: row.path,
      bytes: row.bytes,
      createdAt: row.created_at,
    };
  }
}
