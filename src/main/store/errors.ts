// Errors of the store. StoreError is for the database file itself (newer, damaged, locked,
// read-only, full, unreadable); a name clash is a user mistake, not a storage failure, so it
// has its own class (DatasetNameTakenError) that front ends can show as-is.

import path from 'node:path';

export type StoreErrorCode = 'newer-database' | 'corrupt' | 'locked' | 'readonly' | 'disk-full' | 'io';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  /** The file concerned (usually autobatch.db), when known. */
  readonly file: string | undefined;

  constructor(code: StoreErrorCode, message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options?.file;
  }
}

/** insert() of a dataset whose name is already used. */
export class DatasetNameTakenError extends Error {
  override readonly name = 'DatasetNameTakenError';
  readonly code = 'name-taken' as const;
  constructor(readonly datasetName: string) {
    super(`a dataset named "${datasetName}" already exists`);
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Turns an SQLite (or file-system) error about `file` into a StoreError; returns anything
 * else unchanged (programming errors, constraint failures, StoreErrors themselves).
 */
export function toStoreError(err: unknown, file: string): unknown {
  if (err instanceof StoreError) return err;
  const code = errorCode(err);
  if (code === undefined) return err;
  const detail = errorMessage(err);
  const name = path.basename(file);
  const opts = { file, cause: err };
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError('locked', `${file} is locked by another program (${detail}); close other copies of AutoBatch Studio and try again`, opts);
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new StoreError('readonly', `${file} cannot be written (${detail}); check the permissions of ${path.dirname(file)}`, opts);
  }
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT') {
    return new StoreError('disk-full', `the disk holding ${file} is full (${detail}); free some space and try again`, opts);
  }
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) {
    return new StoreError('corrupt', `${file} is damaged or is not an AutoBatch Studio database (${detail}); move ${name} aside to start afresh`, opts);
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PROTOCOL') || /^E[A-Z]+$/.test(code)) {
    return new StoreError('io', `cannot read or write ${file} (${detail})`, opts);
  }
  return err;
}

/** Runs `fn`, rethrowing storage failures as StoreError. */
export function guard<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toStoreError(err, file);
  }
}

export function isConstraint(err: unknown, kind: 'UNIQUE' | 'FOREIGNKEY'): boolean {
  return errorCode(err) === `SQLITE_CONSTRAINT_${kind}`;
}
