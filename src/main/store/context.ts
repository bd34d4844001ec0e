import type Database from 'better-sqlite3';

/** What every repository needs: the open connection and the file name for error messages. */
export interface StoreContext {
  readonly db: Database.Database;
  readonly file: string;
}

export function nowIso(): string {
  return new Date().toISOString();
}
