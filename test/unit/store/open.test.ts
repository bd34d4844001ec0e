import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { defaultHomeFor, MIGRATIONS, openStore, StoreError } from '../../../src/main/store/index.js';

const LATEST = MIGRATIONS[MIGRATIONS.length - 1]!.version;
const ALL_TABLES = ['artifacts', 'datasets', 'discarded_metrics', 'metrics', 'run_events', 'run_imports', 'runs', 'tuning_sessions', 'tuning_trials'];
import type { Migration } from '../../../src/main/store/index.js';
import { toStoreError } from '../../../src/main/store/errors.js';
import { manifest, raw, rmHome, tempHome } from './helpers.js';

const homes: string[] = [];
function home(): string {
  const h = tempHome();
  homes.push(h);
  return h;
}
afterEach(() => {
  while (homes.length > 0) rmHome(homes.pop()!);
});

function tables(db: Database.Database): string[] {
  return db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => r.name);
}

function sha(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

describe('openStore', () => {
  it('creates folders and migrates an empty database to the latest version', () => {
    const h = path.join(home(), 'nested', 'deeper');
    const store = openStore(h);
    try {
      assert.equal(store.schemaVersion, MIGRATIONS[MIGRATIONS.length - 1]!.version);
      assert.equal(store.paths.database, path.join(h, 'autobatch.db'));
      for (const dir of [store.paths.home, store.paths.datasetsDir, store.paths.artifactsDir]) {
        assert.ok(fs.statSync(dir).isDirectory(), dir);
      }
      assert.deepEqual(store.recovered, []);
    } finally {
      store.close();
    }
    const db = new Database(path.join(h, 'autobatch.db'));
    try {
      assert.equal(db.pragma('user_version', { simple: true }), LATEST);
      assert.deepEqual(tables(db), ALL_TABLES);
    } finally {
      db.close();
    }
  });

  it('uses WAL journaling and the required pragmas', () => {
    const h = home();
    const store = openStore(h);
    const db = raw(h);
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
      store.close();
    }
  });

  it('re-opening is a no-op and keeps data', () => {
    const h = home();
    const a = openStore(h);
    a.datasets.insert(manifest('iris'), '/cache/iris');
    a.close();
    a.close(); // idempotent
    const b = openStore(h);
    try {
      assert.equal(b.schemaVersion, LATEST);
      assert.deepEqual(
        b.datasets.list().map((d) => d.name),
        ['iris'],
      );
    } finally {
      b.close();
    }
  });

  it('rolls back every pending migration when one throws', () => {
    const h = home();
    const failing: Migration[] = [
      ...MIGRATIONS,
      { version: LATEST + 1, name: 'two', up: (db) => db.exec('CREATE TABLE two (x INTEGER)') },
      {
        version: LATEST + 2,
        name: 'boom',
        up: (db) => {
          db.exec('CREATE TABLE three (x INTEGER)');
          throw new Error('boom');
        },
      },
    ];
    assert.throws(() => openStore(h, { migrations: failing }), /boom/);
    let db = raw(h);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), 0);
      assert.deepEqual(tables(db), []);
    } finally {
      db.close();
    }

    // From an existing database at the app's version: both new migrations roll back.
    openStore(h).close();
    assert.throws(() => openStore(h, { migrations: failing }), /boom/);
    db = raw(h);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), LATEST);
      assert.deepEqual(tables(db), ALL_TABLES);
    } finally {
      db.close();
    }

    // A later, fixed app applies them all in one go.
    const fixed: Migration[] = [...failing.slice(0, -1), { version: LATEST + 2, name: 'ok', up: (d) => d.exec('CREATE TABLE three (x INTEGER)') }];
    const store = openStore(h, { migrations: fixed });
    assert.equal(store.schemaVersion, LATEST + 2);
    store.close();
  });

  it('refuses a newer database and leaves it untouched', () => {
    const h = home();
    const file = path.join(h, 'autobatch.db');
    const db = new Database(file);
    db.exec('CREATE TABLE future (x INTEGER); INSERT INTO future VALUES (1);');
    db.pragma('user_version = 7');
    db.close();
    const before = sha(file);
    const listing = fs.readdirSync(h).sort();

    const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    assert.throws(
      () => openStore(h),
      (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.equal(err.code, 'newer-database');
        assert.equal(err.message, `autobatch.db is at schema version 7, newer than this app understands (${latest}); update AutoBatch Studio`);
        return true;
      },
    );
    assert.equal(sha(file), before);
    assert.deepEqual(
      fs
        .readdirSync(h)
        .filter((f) => f.startsWith('autobatch.db'))
        .sort(),
      listing.filter((f) => f.startsWith('autobatch.db')),
    );
    const check = new Database(file, { readonly: true });
    try {
      assert.equal(check.pragma('user_version', { simple: true }), 7);
      assert.equal(check.pragma('journal_mode', { simple: true }), 'delete');
    } finally {
      check.close();
    }
  });

  it('reports a file that is not a database as corrupt', () => {
    const h = home();
    const file = path.join(h, 'autobatch.db');
    fs.writeFileSync(file, 'this is not a database\n'.repeat(200));
    assert.throws(
      () => openStore(h),
      (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.equal(err.code, 'corrupt');
        assert.ok(err.message.includes(file), err.message);
        return true;
      },
    );
  });

  it('maps SQLite error codes to StoreError codes', () => {
    const cases: [string, string][] = [
      ['SQLITE_BUSY', 'locked'],
      ['SQLITE_BUSY_SNAPSHOT', 'locked'],
      ['SQLITE_READONLY', 'readonly'],
      ['SQLITE_READONLY_DBMOVED', 'readonly'],
      ['SQLITE_FULL', 'disk-full'],
      ['SQLITE_CORRUPT', 'corrupt'],
      ['SQLITE_NOTADB', 'corrupt'],
      ['SQLITE_IOERR_WRITE', 'io'],
      ['ENOSPC', 'disk-full'],
    ];
    for (const [code, expected] of cases) {
      const mapped = toStoreError(Object.assign(new Error('x'), { code }), '/h/autobatch.db');
      assert.ok(mapped instanceof StoreError, code);
      assert.equal(mapped.code, expected, code);
      assert.match(mapped.message, /\/h\/autobatch\.db/);
    }
    const constraint = Object.assign(new Error('UNIQUE'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
    assert.equal(toStoreError(constraint, '/h/autobatch.db'), constraint);
  });

  it('reports a locked database', { skip: process.platform === 'win32' }, () => {
    const h = home();
    openStore(h).close();
    const other = raw(h);
    other.pragma('busy_timeout = 0');
    other.exec('BEGIN EXCLUSIVE');
    try {
      // The migration check's write transaction meets the lock and gives up after busy_timeout.
      const t0 = Date.now();
      assert.throws(
        () => openStore(h),
        (err: unknown) => err instanceof StoreError && err.code === 'locked',
      );
      assert.ok(Date.now() - t0 >= 4000, 'waits for busy_timeout');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('defaultHome follows AUTOBATCH_HOME, then the platform data folder', () => {
    assert.equal(defaultHomeFor('linux', { AUTOBATCH_HOME: '/x/y' }, '/home/u'), '/x/y');
    assert.equal(defaultHomeFor('linux', {}, '/home/u'), '/home/u/.local/share/autobatch-studio');
    assert.equal(defaultHomeFor('linux', { XDG_DATA_HOME: '/xdg' }, '/home/u'), '/xdg/autobatch-studio');
    assert.equal(defaultHomeFor('darwin', {}, '/Users/u'), '/Users/u/Library/Application Support/AutoBatch Studio');
    assert.equal(defaultHomeFor('win32', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'C:\\Users\\u'), 'C:\\Users\\u\\AppData\\Roaming\\AutoBatch Studio');
  });
});
