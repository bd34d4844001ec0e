// `autobatch tunings export` on a real Quick search (the MLP on 600 MNIST digits, on the cpu
// backend): the CSV read back with csv-parse holds one row per stored trial with its session's
// context and every measured value; --json prints the same rows; --out writes a file; bad ids
// are refused with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { tempHome } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin', 'autobatch.js');

function cli(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, AUTOBATCH_HOME: home }, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

interface Trial {
  seq: number;
  kind: string;
  batchSize: number;
  status: string;
  result: Record<string, unknown>;
}

test('tunings export: every trial of a real search as CSV and JSON rows, to stdout or a file', { timeout: 600_000 }, () => {
  const home = tempHome();
  assert.equal(cli(home, 'datasets', 'import', 'sample:mnist', '--limit', '600', '--json').code, 0);
  // A ten-minute planned run leaves the search time for the learning-rate ramps too.
  const tune = cli(home, 'tune', '--dataset', 'mnist', '--model', 'mlp', '--backend', 'cpu', '--budget', '10m', '--json');
  assert.equal(tune.code, 0, tune.stderr);
  const session = tune.json() as { id: number; trials: Trial[]; rung: string; device: string };
  const kinds = new Set(session.trials.map((t) => t.kind));
  for (const kind of ['memory', 'throughput', 'learning-rate']) assert.ok(kinds.has(kind), `the search ran ${kind} probes`);

  const csv = cli(home, 'tunings', 'export', String(session.id), '--csv');
  assert.equal(csv.code, 0, csv.stderr);
  const records = parse(csv.stdout, { columns: true }) as Record<string, string>[];
  assert.equal(records.length, session.trials.length, 'one row per trial');
  records.forEach((r, i) => {
    const t = session.trials[i]!;
    assert.deepEqual(
      [r.tuningId, r.dataset, r.model, r.mode, r.engine, r.rung, r.device, r.seq, r.kind, r.batchSize, r.status, r.oom],
      [String(session.id), 'mnist', 'mlp', 'quick', 'tfjs', 'cpu', session.device, String(t.seq), t.kind, String(t.batchSize), t.status, 'false'],
    );
  });
  const memory = records.find((r) => r.kind === 'memory')!;
  assert.equal(Number(memory.peakBytes), session.trials.find((t) => t.kind === 'memory')!.result.peakBytes, 'measured values have columns');
  const ramp = records.find((r) => r.kind === 'learning-rate')!;
  const rates = JSON.parse(ramp.rates!) as number[];
  assert.ok(rates.length >= 8 && rates.every((x) => x > 0), 'a range test keeps its rates, as JSON in one cell');
  assert.equal(memory.rates, '', 'a memory probe has no rates: the cell is empty');

  const json = cli(home, 'tunings', 'export', String(session.id), '--json');
  assert.equal(json.code, 0, json.stderr);
  const rows = json.json() as { tuningId: number; seq: number; kind: string; result: Record<string, unknown> }[];
  assert.deepEqual(
    rows.map((r) => [r.tuningId, r.seq, r.kind]),
    session.trials.map((t) => [session.id, t.seq, t.kind]),
  );
  assert.deepEqual(rows[0]!.result, session.trials[0]!.result);

  const file = path.join(home, 'trials.csv');
  const written = cli(home, 'tunings', 'export', 'all', '--out', file);
  assert.equal(written.code, 0, written.stderr);
  assert.match(written.stdout, new RegExp(`^Wrote ${session.trials.length} trials of 1 tuning session to `));
  assert.equal(readFileSync(file, 'utf8'), csv.stdout, 'all of one session is that session');
  const summary = cli(home, 'tunings', 'export', 'all', '--json', '--out', path.join(home, 'trials.json'));
  assert.deepEqual(summary.json(), { file: path.join(home, 'trials.json'), rows: session.trials.length, sessions: 1 });
  assert.deepEqual(JSON.parse(readFileSync(path.join(home, 'trials.json'), 'utf8')), rows);

  const missing = cli(home, 'tunings', 'export', String(session.id + 1));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`no tuning session "${session.id + 1}"`));
  const word = cli(home, 'tunings', 'export', 'latest');
  assert.equal(word.code, 2);
  assert.match(word.stderr, /expected a tuning session id .* or "all", got "latest"/);
  assert.match(cli(home, 'tunings', 'export', '1', '--csv', '--json').stderr, /choose one of --csv and --json/);
});
