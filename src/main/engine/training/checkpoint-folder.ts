// A run's checkpoints on disk (src/shared/checkpoint.ts has the format). Writing goes to a
// `.partial-…` folder, each file synced, state.json last, then one rename: a kill at any moment
// leaves either the finished folder or a partial one that readers ignore — never a half-written
// checkpoint under a real name. The Python trainer (python/autobatch_trainer/checkpoint.py)
// writes the same layout.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { CHECKPOINT_FOLDER, CHECKPOINTS_KEPT, checkpointFolderName, checkpointStateSchema, type CheckpointState } from '../../../shared/checkpoint.js';
import { describeSchemaError } from '../../../shared/schema-errors.js';

export const STATE_FILE = 'state.json';

/**
 * Fault tests only (test/reliability): hold each checkpoint write this long before its
 * state.json, so that a kill lands inside the write. Unset everywhere else.
 */
const PAUSE_ENV = 'AUTOBATCH_TEST_CHECKPOINT_PAUSE_MS';

function pauseForFaultTests(): void {
  const ms = Number(process.env[PAUSE_ENV] ?? 0);
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(ms, 60_000));
}
export const ORDER_FILE = 'order.bin';

function writeSynced(file: string, data: Uint8Array | string): void {
  const fd = openSync(file, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Syncs a folder's entries (a rename is durable once its folder is); not every platform allows it. */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open a folder for syncing; its renames are journaled by NTFS.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes one checkpoint: the engine's files, the order, then state.json, into a partial folder
 * renamed into place; then keeps only the newest CHECKPOINTS_KEPT. Returns the folder.
 */
export function writeCheckpointFolder(planDir: string, state: CheckpointState, order: Uint32Array, files: Record<string, Uint8Array>): string {
  mkdirSync(planDir, { recursive: true });
  const name = checkpointFolderName(state.step);
  const partial = path.join(planDir, `.partial-${name}-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial);
  for (const [file, data] of Object.entries(files)) writeSynced(path.join(partial, file), data);
  const orderBytes = Buffer.alloc(order.length * 4);
  for (let i = 0; i < order.length; i++) orderBytes.writeUInt32LE(order[i]!, i * 4);
  writeSynced(path.join(partial, ORDER_FILE), orderBytes);
  pauseForFaultTests();
  writeSynced(path.join(partial, STATE_FILE), JSON.stringify(checkpointStateSchema.parse(state)));
  syncFolder(partial);
  const final = path.join(planDir, name);
  // The same step again (a stop right after an epoch's end): the newer write replaces it.
  if (existsSync(final)) rmSync(final, { recursive: true, force: true });
  renameSync(partial, final);
  syncFolder(planDir);
  pruneCheckpoints(planDir);
  return final;
}

/** The finished checkpoint folders, newest (highest step) first. */
export function listCheckpoints(planDir: string): { dir: string; step: number }[] {
  let names: string[];
  try {
    names = readdirSync(planDir);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, m: CHECKPOINT_FOLDER.exec(n) }))
    .filter((e): e is { n: string; m: RegExpExecArray } => e.m !== null)
    .map((e) => ({ dir: path.join(planDir, e.n), step: Number(e.m[1]) }))
    .sort((a, b) => b.step - a.step);
}

/** Keeps the newest CHECKPOINTS_KEPT finished checkpoints; removes older ones and partial folders other writers left. */
function pruneCheckpoints(planDir: string): void {
  for (const old of listCheckpoints(planDir).slice(CHECKPOINTS_KEPT)) rmSync(old.dir, { recursive: true, force: true });
  for (const n of readdirSync(planDir)) {
    if (n.startsWith('.partial-') && !n.endsWith(`-${process.pid}`)) rmSync(path.join(planDir, n), { recursive: true, force: true });
  }
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** A checkpoint's state.json, checked; throws CheckpointError naming the file. */
export function readCheckpointState(dir: string): CheckpointState {
  const file = path.join(dir, STATE_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CheckpointError(`cannot read the checkpoint ${file}: ${(err as Error).message}`);
  }
  const parsed = checkpointStateSchema.safeParse(raw);
  if (!parsed.success) throw new CheckpointError(`${file} is not a checkpoint this app can read: ${describeSchemaError(parsed.error)}`);
  return parsed.data;
}

/** The epoch's order a checkpoint kept; it must hold `count` samples. */
export function readCheckpointOrder(dir: string, count: number): Uint32Array {
  const file = path.join(dir, ORDER_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new CheckpointError(`cannot read the checkpoint ${file}: ${(err as Error).message}`);
  }
  if (bytes.length !== count * 4)
    throw new CheckpointError(
      `${file} holds ${bytes.length / 4} samples, but the dataset's training split has ${count}: the dataset changed since the checkpoint`,
    );
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = bytes.readUInt32LE(i * 4);
  return order;
}

/** The newest checkpoint whose state.json reads (an unreadable newest one falls back to the one before), or undefined. */
export function latestCheckpoint(planDir: string): { dir: string; state: CheckpointState } | undefined {
  for (const c of listCheckpoints(planDir)) {
    try {
      return { dir: c.dir, state: readCheckpointState(c.dir) };
    } catch {
      // A damaged folder (disk error, edited by hand): the previous checkpoint is the one to use.
    }
  }
  return undefined;
}
