// The scale-out plan on the command line, after a real Quick search (the MLP on 600 MNIST digits,
// cpu backend): `tunings show` prints the "Scaling out" table and its assumptions, `tunings plan`
// and `runs plan` print the API's answer with --json, and unknown ids are refused with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScaleOutAnswer, TuningDetail } from '../../src/shared/api/index.js';
import { tempHome } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin', 'autobatch.js');

function cli(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, AUTOBATCH_HOME: home }, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

test('tunings show / tunings plan / runs plan: the scale-out plan of a real search and of a run trained with it', { timeout: 600_000 }, () => {
  const home = tempHome();
  assert.equal(cli(home, 'datasets', 'import', 'sample:mnist', '--limit', '600', '--json').code, 0);
  const tune = cli(home, 'tune', '--dataset', 'mnist', '--model', 'mlp', '--backend', 'cpu', '--epochs', '2', '--json');
  assert.equal(tune.code, 0, tune.stderr);
  const t = tune.json() as TuningDetail;
  const rec = t.report!.recommendation;
  // --json of the search and of `tunings show` carry the plan; a Quick search measures no noise scale.
  const plan = t.scaleOutPlan!;
  assert.deepEqual(
    plan.rows.map((r) => [r.workers, r.perWorkerBatch, r.globalBatch, r.efficiency, r.speedup]),
    [1, 2, 4, 8].map((k) => [k, rec.batchSize, k * rec.batchSize, 1, k]),
  );
  assert.equal(plan.epochs, 2);
  assert.deepEqual((cli(home, 'tunings', 'show', String(t.id), '--json').json() as TuningDetail).scaleOutPlan, plan);

  const shown = cli(home, 'tunings', 'show', String(t.id));
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`Scaling out \\(data-parallel, from batch ${rec.batchSize} .*; no noise scale; 2 epochs\\):`));
  assert.match(shown.stdout, /WORKERS\s+PER WORKER \(MICRO\)\s+GLOBAL\s+RATE\s+WARM-UP\s+EFFICIENCY\s+SPEED-UP/);
  assert.match(shown.stdout, new RegExp(`\\n\\s+8\\s+${rec.batchSize}\\s+${8 * rec.batchSize}\\s+\\S+\\s+\\d+ steps?\\s+100 %\\s+8\\.00×`));
  assert.match(shown.stdout, /Assumptions:\n\s+• No communication cost is counted/);
  assert.match(shown.stdout, /No noise scale was measured, so no loss of statistical efficiency is counted/);

  const planned = cli(home, 'tunings', 'plan', String(t.id), '--json');
  assert.equal(planned.code, 0, planned.stderr);
  const answer = planned.json() as ScaleOutAnswer;
  assert.deepEqual(answer, { plan, source: { kind: 'tuning', id: t.id }, tuningId: t.id, model: 'mlp', datasetId: t.datasetId });
  const text = cli(home, 'tunings', 'plan', String(t.id));
  assert.match(text.stdout, new RegExp(`^Tuning session ${t.id}: mlp\\n\\nScaling out`));

  const train = cli(home, 'train', '--from-tuning', String(t.id), '--epochs', '1', '--max-steps', '2', '--json');
  assert.equal(train.code, 0, train.stderr);
  const runId = (train.json() as { id: number }).id;
  const runPlan = cli(home, 'runs', 'plan', String(runId), '--json').json() as ScaleOutAnswer;
  assert.deepEqual([runPlan.source, runPlan.tuningId, runPlan.plan.epochs], [{ kind: 'run', id: runId }, t.id, 1]);
  assert.deepEqual(
    runPlan.plan.rows.map((r) => r.globalBatch),
    plan.rows.map((r) => r.globalBatch),
  );
  assert.match(runPlan.plan.assumptions[0]!, new RegExp(`run ${runId}'s own .* tuning ${t.id}'s`));
  assert.match(cli(home, 'runs', 'plan', String(runId)).stdout, new RegExp(`^Run ${runId} \\(measurements of tuning ${t.id}\\): mlp`));

  const missing = cli(home, 'runs', 'plan', '999');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no run "999"/);
  assert.match(cli(home, 'tunings', 'plan', 'x').stderr, /expected/);
});
