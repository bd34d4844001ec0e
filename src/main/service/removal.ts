// The files of a deletion (AutoBatchService.deleteDataset / deleteRun / deleteTuning). The rows
// go in one SQLite transaction (store/removal.ts); the files around it, in this order:
//
//   1. move aside: each folder is renamed, in its own parent folder (same file system, atomic),
//      to ".deleting-<pid>-<random>-<name>". If one cannot be moved (a file held open on
//      Windows, no permission), those already moved are put back and the deletion is refused:
//      nothing is deleted.
//   2. the transaction deletes the rows. If it fails, the folders are put back.
//   3. purge: the moved folders are removed. What cannot be removed is reported (leftOver); no
//      row points at it any more, and the next start of the service removes it (sweepTrash).
//
// So a row never points at a missing file, and a new run that gets the id of a deleted one
// (SQLite reuses the highest id once it is deleted) never finds the old run's folder.
//
// Only paths inside the data folder's datasets/ and artifacts/ are touched, whatever a row says:
// the files a dataset was imported from are never deleted.
import { randomUUID } from 'node:crypto';
import { lstatSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { processAlive, StoreError, type RemovalPlan, type StorePaths } from '../store/index.js';
import { ConflictError } from './errors.js';

export const TRASH_PREFIX = '.deleting-';

/** Whether `p` is strictly inside `root` (lexically: both are resolved, symlinks not followed). */
export function isInside(p: string, root: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(p));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** The files and folders a deletion removes: dataset caches and run folders, inside the data folder only. */
export function filesOfPlan(plan: RemovalPlan, paths: Pick<StorePaths, 'datasetsDir' | 'artifactsDir'>): string[] {
  const out: string[] = [];
  const add = (p: string, root: string) => {
    const abs = path.resolve(p);
    if (!isInside(abs, root) || out.some((o) => o === abs || isInside(abs, o))) return;
    // A folder that holds ones already listed replaces them.
    for (let i = out.length - 1; i >= 0; i--) if (isInside(out[i]!, abs)) out.splice(i, 1);
    out.push(abs);
  };
  for (const d of plan.datasets) add(d.cacheDir, paths.datasetsDir);
  for (const r of plan.runs) {
    add(path.join(paths.artifactsDir, `run-${r.id}`), paths.artifactsDir);
    for (const a of r.artifactPaths) add(a, paths.artifactsDir);
  }
  return out;
}

/** Bytes of the regular files under these paths (symbolic links are not followed); missing paths count 0. */
export function bytesOf(paths: readonly string[]): number {
  let total = 0;
  const walk = (p: string) => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      let names: string[] = [];
      try {
        names = readdirSync(p);
      } catch {
        return;
      }
      for (const n of names) walk(path.join(p, n));
    } else if (st.isFile()) total += st.size;
  };
  for (const p of paths) walk(p);
  return total;
}

export interface Moved {
  from: string;
  to: string;
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Renames each existing path to a trash name beside it. If one fails, puts back those moved and
 * throws: a ConflictError naming `field` when the file is in use, else a StoreError.
 */
export function moveAside(paths: readonly string[], field: string): Moved[] {
  const moved: Moved[] = [];
  for (const from of paths) {
    if (!exists(from)) continue;
    const to = path.join(path.dirname(from), `${TRASH_PREFIX}${process.pid}-${randomUUID().slice(0, 8)}-${path.basename(from)}`);
    try {
      renameSync(from, to);
      moved.push({ from, to });
    } catch (err) {
      const notBack = putBack(moved);
      const code = (err as NodeJS.ErrnoException).code;
      const tail = notBack.length ? `; ${notBack.join(', ')} could not be put back` : '; nothing was deleted';
      if (code === 'EBUSY' || code === 'ETXTBSY')
        throw new ConflictError(`${from} is in use by another program (${code}); close it and try again${tail}`, field);
      throw new StoreError(
        code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'readonly' : 'io',
        `could not delete ${from}: ${(err as Error).message}${tail}`,
        { file: from, cause: err },
      );
    }
  }
  return moved;
}

/** Renames moved paths back, newest first; returns the trash paths that could not be. */
export function putBack(moved: readonly Moved[]): string[] {
  const failed: string[] = [];
  for (const m of [...moved].reverse()) {
    try {
      renameSync(m.to, m.from);
    } catch {
      failed.push(m.to);
    }
  }
  return failed;
}

/** Removes the moved paths; returns those that could not be removed (the next start tries again). */
export async function purge(moved: readonly Moved[]): Promise<string[]> {
  const left: string[] = [];
  for (const m of moved) {
    try {
      await rm(m.to, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      left.push(m.to);
    }
  }
  return left;
}

/**
 * Removes what earlier deletions could not (trash names directly in these folders) — except what
 * another live process is still deleting. Best effort: returns the paths removed.
 */
export function sweepTrash(dirs: readonly string[]): string[] {
  const removed: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = new RegExp(`^${TRASH_PREFIX.replace('.', '\\.')}(\\d+)-`).exec(name);
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid !== process.pid && processAlive(pid)) continue;
      try {
        rmSync(path.join(dir, name), { recursive: true, force: true });
        removed.push(path.join(dir, name));
      } catch {
        // still held; the next start tries again
      }
    }
  }
  return removed;
}
