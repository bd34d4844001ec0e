// Issue 20, "a tuning knows when it is stale", as a user meets it on the command line: a search
// stores its fingerprint; `tunings list` says whether each still holds; `train --from-tuning`
// warns on stderr with each change and the `autobatch tune` line, goes on (or not, with
// --refuse-stale) and says it in --json; a tuning stored before fingerprints reads "unknown";
// on the torch engine the fingerprint holds torch's version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { tempHome } from './helpers.js';
import { missing, torchPython } from '../support/parts.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin', 'autobatch.js');

function cli(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, AUTOBATCH_HOME: home }, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) as Record<string, unknown> };
}

function sql(home: string, statement: string, ...params: unknown[]): void {
  const db = new Database(path.join(home, 'autobatch.db'));
  try {
    db.prepare(statement).run(...params);
  } finally {
    db.close();
  }
}

/** A quick search of the MLP on `backend`, fixed rate (no range test): a few seconds. */
function tune(home: string, backend: string) {
  const r = cli(home, 'tune', '--dataset', 'mnist', '--model', 'mlp', '--backend', backend, '--no-lr-search', '--json');
  assert.equal(r.code, 0, r.stderr);
  return r.json();
}

test('a fresh tuning, one trained on another backend and dataset, and one from before fingerprints', { timeout: 600_000 }, () => {
  const home = tempHome();
  assert.equal(cli(home, 'datasets', 'import', 'sample:mnist', '--limit', '600', '--json').code, 0);
  const t = tune(home, 'cpu');
  const fp = t.fingerprint as Record<string, unknown>;
  assert.equal(fp.model, 'mlp');
  assert.equal(fp.engine, 'tfjs');
  assert.equal(fp.backend, 'cpu');
  assert.equal(fp.torchVersion, null);
  assert.match((fp.dataset as { contentHash: string }).contentHash, /^[0-9a-f]{64}$/);
  assert.ok((fp.parameters as number) > 0);
  assert.deepEqual(t.freshness, { state: 'fresh', changes: [], reason: null });

  // Trained as it was measured: no warning, `stale` null.
  const same = cli(home, 'train', '--from-tuning', String(t.id), '--max-steps', '1', '--refuse-stale', '--json');
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.json().stale, null);
  assert.doesNotMatch(same.stderr, /stale/);

  // Another backend: warned, and still trained.
  const wasm = cli(home, 'train', '--from-tuning', String(t.id), '--backend', 'wasm', '--max-steps', '1', '--json');
  assert.equal(wasm.code, 0, wasm.stderr);
  const stale = wasm.json().stale as { changes: { field: string; text: string }[]; retuneCommand: string };
  assert.deepEqual(stale.changes, [{ field: 'backend', text: 'the backend is now wasm, was cpu' }]);
  assert.match(stale.retuneCommand, /^autobatch tune --dataset 1 --model mlp --mode quick --backend wasm .*--no-reuse$/);
  assert.match(wasm.stderr, /tuning 1 is stale[^]*the backend is now wasm, was cpu[^]*To tune again: autobatch tune --dataset 1/);
  assert.equal(wasm.json().status, 'completed');

  // Other data (same source, another split): --refuse-stale trains nothing.
  assert.equal(cli(home, 'datasets', 'import', 'sample:mnist', '--limit', '600', '--seed', '7', '--name', 'other', '--json').code, 0);
  const runsBefore = (cli(home, 'runs', 'list', '--json').json() as unknown as unknown[]).length;
  const refused = cli(home, 'train', '--from-tuning', String(t.id), '--dataset', 'other', '--max-steps', '1', '--refuse-stale');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /the dataset is now "other" \(hash [0-9a-f]{8}…\), was "mnist" \(hash [0-9a-f]{8}…\)/);
  assert.match(refused.stderr, /not training with stale tuning 1 \(--refuse-stale\)/);
  assert.equal((cli(home, 'runs', 'list', '--json').json() as unknown as unknown[]).length, runsBefore);

  // The same tuning, as one stored before fingerprints were kept: unknown, never fresh or stale.
  sql(home, 'UPDATE tuning_sessions SET fingerprint = NULL WHERE id = ?', t.id);
  const list = cli(home, 'tunings', 'list');
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /FINGERPRINT/);
  assert.match(list.stdout, /^1 .* unknown\s*$/m);
  const old = cli(home, 'train', '--from-tuning', String(t.id), '--backend', 'wasm', '--max-steps', '1', '--refuse-stale', '--json');
  assert.equal(old.code, 0, old.stderr);
  assert.equal(old.json().stale, null);
  assert.equal((old.json().tuningFreshness as { state: string }).state, 'unknown');
  assert.match(old.stderr, /fingerprint unknown: this tuning was stored before tunings kept one/);
});

test('on torch-cpu the fingerprint holds torch’s version, and another version makes the tuning stale', { skip: missing('torch'), timeout: 600_000 }, () => {
  const home = tempHome();
  assert.equal(cli(home, 'datasets', 'import', 'sample:mnist', '--limit', '600', '--json').code, 0);
  const python = torchPython();
  const r = cli(home, 'tune', '--dataset', 'mnist', '--model', 'mlp', '--backend', 'torch-cpu', '--no-lr-search', '--python', python, '--json');
  assert.equal(r.code, 0, r.stderr);
  const t = r.json();
  const fp = t.fingerprint as { engine: string; backend: string; torchVersion: string | null };
  assert.equal(fp.engine, 'torch');
  assert.equal(fp.backend, 'torch-cpu');
  assert.match(fp.torchVersion ?? '', /^\d+\.\d+/);

  // As if it had been measured under another torch: the stored version is rewritten.
  sql(home, "UPDATE tuning_sessions SET fingerprint = json_set(fingerprint, '$.torchVersion', '0.9.0') WHERE id = ?", t.id);
  const list = cli(home, 'tunings', 'list');
  assert.match(list.stdout, new RegExp(`Tuning ${String(t.id)} is stale: torch is now version ${fp.torchVersion!.replace(/\./g, '\\.')}, was 0\\.9\\.0`));
  const train = cli(home, 'train', '--from-tuning', String(t.id), '--max-steps', '1', '--python', python, '--json');
  assert.equal(train.code, 0, train.stderr);
  const stale = train.json().stale as { changes: { field: string; text: string }[] };
  assert.deepEqual(
    stale.changes.map((c) => c.field),
    ['torchVersion'],
  );
  assert.match(train.stderr, /torch is now version .*, was 0\.9\.0/);
});
