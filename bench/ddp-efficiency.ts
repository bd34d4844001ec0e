// `npm run bench:ddp`: the scale-out plan's prediction of statistical efficiency, checked
// (issue 21, docs/benchmarks.md). One Auto-tune Full search on torch-cpu gives the plan; its
// recipe runs under torchrun on this machine's CPU (gloo, one thread per worker) three ways, on
// each seed in turn (seed-major, the order rotating): K = 1 at the tuned batch B; K = 2 as the
// plan has it (its per-worker batch may be below B when 2·B is past diminishing returns); and
// K = 2 at K·B — B per worker, the rate and warm-up by the plan's rules (scaleOutSettings) —
// the batch whose efficiency the issue asks to check. The measure: the training loss L that K = 1
// reaches after one epoch (the mean of its last fifth of an epoch's steps), and the steps S each
// run takes until the same trailing mean (over as many samples) first reaches L — K = 1 included,
// so that noise in the curve counts alike on both sides; then
//   measured efficiency E = (S₁ · B) / (S · M)
// (samples to the same loss at B over those at the global batch M) against the plan's
// E(M) = (φ + B)/(φ + M).
//
//   npm run bench:ddp -- [--workload small-mnist] [--seeds 1,2] [--epochs 2] [--out DIR] [--python /usr/bin/python3]
//   node dist/bench/ddp-efficiency.js --report docs/bench-results/<date>/ddp/*.jsonl     the tables
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { tuningToEnd } from '../src/shared/api/index.js';
import { decodeJsonLine } from '../src/shared/json-lines.js';
import { recipeMetricsLineSchema, RECIPE_METRICS_FILE, type RecipeStepLine } from '../src/shared/recipe-metrics.js';
import { minimumBatchForRun } from '../src/shared/model-families.js';
import { oneNodeTorchrunArgs, RECIPE_FILE, recipeFileSchema } from '../src/shared/recipe-file.js';
import { scaleOutInputFromReport, scaleOutSettings } from '../src/shared/scale-out.js';
import { benchCore } from './harness.js';
import { ddpTable, measuredEfficiency, stepsTo, trailingMean, type Variant } from './ddp/report.js';
import { gitCommit, machineText } from './tuner/runner.js';
import { findWorkload } from './tuner/workloads.js';

const { values: args, positionals } = parseArgs({
  options: {
    workload: { type: 'string', default: 'small-mnist' },
    seeds: { type: 'string', default: '1,2' },
    epochs: { type: 'string', default: '2' },
    out: { type: 'string' },
    python: { type: 'string', default: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3' },
    // Print the tables of these results files instead of measuring.
    report: { type: 'boolean' },
  },
  allowPositionals: true,
});

if (args.report) {
  for (const file of positionals) {
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    process.stdout.write(ddpTable(lines) + '\n');
  }
  process.exit(0);
}

const bench = benchCore('ddp');

interface Trained {
  steps: RecipeStepLine[];
  epochEnds: number[];
  seconds: number;
}

/** Runs one recipe under torchrun with K workers on the CPU; every step's metrics read back. */
function runRecipe(folder: string, workers: number, seed: number, epochs: number, out: string): Trained {
  rmSync(out, { recursive: true, force: true });
  const started = performance.now();
  const r = spawnSync(
    args.python,
    [...oneNodeTorchrunArgs(workers), 'train_ddp.py', '--out', out, '--device', 'cpu', '--epochs', String(epochs), '--seed', String(seed), '--log-every', '1'],
    { cwd: folder, env: { ...process.env, OMP_NUM_THREADS: '1' }, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
  );
  if (r.status !== 0) throw new Error(`torchrun (K = ${workers}, seed ${seed}) ended ${r.status}: ${(r.stderr || r.stdout).slice(-2000)}`);
  const steps: RecipeStepLine[] = [];
  const epochEnds: number[] = [];
  for (const line of readFileSync(path.join(out, RECIPE_METRICS_FILE), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const m = recipeMetricsLineSchema.parse(decodeJsonLine(line));
    if (m.kind === 'step') steps.push(m);
    if (m.kind === 'epoch') epochEnds.push(m.step);
  }
  return { steps, epochEnds, seconds: (performance.now() - started) / 1000 };
}

/** A copy of the recipe whose 2-worker row is K·B: B per worker, the rate and warm-up by the plan's rules. */
function kbRecipe(folder: string, to: string, row: ReturnType<typeof scaleOutSettings>): string {
  rmSync(to, { recursive: true, force: true });
  cpSync(folder, to, { recursive: true });
  const file = path.join(to, RECIPE_FILE);
  const recipe = recipeFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  recipe.plan.rows = recipe.plan.rows.map((r) =>
    r.workers === 2 ? { ...row, speedup: 2 * row.efficiency, reason: "The benchmark's K·B: the tuned batch on each worker." } : r,
  );
  writeFileSync(file, JSON.stringify(recipeFileSchema.parse(recipe), null, 2));
  return to;
}

async function main(): Promise<void> {
  const workload = findWorkload(args.workload);
  const seeds = args.seeds.split(',').map((s) => Number(s.trim()));
  const epochs = Number(args.epochs);
  if (seeds.some((s) => !Number.isInteger(s)) || !(Number.isInteger(epochs) && epochs >= 1)) throw new Error('--seeds: whole numbers; --epochs: ≥ 1');
  const out = path.resolve(args.out ?? path.join('docs', 'bench-results', new Date().toISOString().slice(0, 10), 'ddp'));
  mkdirSync(out, { recursive: true });
  const results = path.join(out, `${workload.name}.jsonl`);
  rmSync(results, { force: true });
  const record = (r: unknown) => appendFileSync(results, JSON.stringify(r) + '\n');
  const dataset = await workload.load(bench.api, bench.home);
  const t = await tuningToEnd(bench.api, () =>
    bench.api.startTuning({
      dataset: dataset.id,
      model: workload.model,
      mode: 'full',
      backend: 'torch-cpu',
      seed: 0,
      augment: 'none',
      plannedEpochs: workload.maxEpochs,
      // Nothing cut: the plan needs the noise scale and the time model.
      budgetSeconds: 600,
      reuseKnown: false,
    }),
  );
  if (!t.report) throw new Error(`Auto-tune Full failed: ${t.error}`);
  const { plan } = await bench.api.scaleOutPlan({ kind: 'tuning', id: t.id });
  const input = scaleOutInputFromReport(t.report, {
    trainCount: dataset.trainCount,
    epochs: workload.maxEpochs,
    minimumBatch: minimumBatchForRun(workload.model),
  });
  const B = plan.base.batchSize;
  const kb = scaleOutSettings(input, 2, B);
  const planned = plan.rows.find((r) => r.workers === 2)!;
  const globals: Record<Variant, number> = { k1: B, plan: planned.globalBatch, kb: kb.globalBatch };
  const predicted: Record<Variant, number> = { k1: 1, plan: planned.efficiency, kb: kb.efficiency };
  record({ kind: 'meta', workload: workload.name, commit: gitCommit(), machine: machineText(), date: new Date().toISOString(), epochs, seeds, plan, kb });
  bench.log(
    `plan: B ${B} @ ${plan.base.learningRate.toPrecision(3)}, φ ${plan.noiseScale?.toFixed(0)} (${plan.noiseScaleSource}); K = 2 planned ${planned.perWorkerBatch} per worker (${planned.globalBatch}, E ${planned.efficiency.toFixed(3)}); K·B ${kb.globalBatch} @ ${kb.learningRate.toPrecision(3)}, E ${kb.efficiency.toFixed(3)}`,
  );
  // One recipe: started with 2 processes, it takes its plan's row for 2 workers.
  const recipe = await bench.api.exportRecipe({ source: { kind: 'tuning', id: t.id }, workers: 1, out: path.join(bench.home, 'recipe') });
  const folders: Record<Variant, string> = { k1: recipe.folder, plan: recipe.folder, kb: kbRecipe(recipe.folder, path.join(bench.home, 'recipe-kb'), kb) };
  const variants: Variant[] = ['k1', 'plan', 'kb'];
  for (const [i, seed] of seeds.entries()) {
    const runs = new Map<Variant, Trained>();
    for (const v of variants.map((_, k) => variants[(k + i) % variants.length]!)) {
      const r = runRecipe(folders[v], v === 'k1' ? 1 : 2, seed, epochs, path.join(bench.home, `out-${v}-s${seed}`));
      runs.set(v, r);
      bench.log(`seed ${seed}, ${v}: ${r.steps.length} steps in ${r.seconds.toFixed(1)} s, last loss ${r.steps.at(-1)?.loss.toFixed(3)}`);
    }
    const k1 = runs.get('k1')!;
    const epochSteps = k1.epochEnds[0]!;
    const window1 = Math.max(1, Math.ceil(epochSteps / 5));
    const target = trailingMean(
      k1.steps.map((s) => s.loss),
      epochSteps - 1,
      window1,
    );
    const steps: Partial<Record<Variant, number | null>> = {};
    for (const v of variants) {
      const window = Math.max(1, Math.round((window1 * B) / globals[v]));
      steps[v] = stepsTo(
        runs.get(v)!.steps.map((s) => s.loss),
        target,
        window,
      );
    }
    const s1 = steps.k1!;
    for (const v of variants) {
      const s = steps[v] ?? null;
      const measured = measuredEfficiency({ steps: s1, batch: B }, { steps: s, batch: globals[v] });
      record({
        kind: 'measure',
        seed,
        variant: v,
        globalBatch: globals[v],
        targetLoss: target,
        epochSteps,
        window1,
        steps: s,
        measured,
        predicted: predicted[v],
        seconds: runs.get(v)!.seconds,
      });
      bench.log(
        `seed ${seed} ${v} (global ${globals[v]}): loss ${target.toFixed(4)} in ${s ?? '—'} steps; E measured ${measured?.toFixed(3) ?? '—'}, predicted ${predicted[v].toFixed(3)}`,
      );
    }
  }
}

bench.run(main);
