// The Auto-tune benchmark (docs/benchmarks.md, "Auto-tune against an oracle and strong baselines"):
// time to a target accuracy, search included, of Auto-tune Quick and Full against the best
// (batch, rate) of a grid that covers what the tuner searches (picked on seeds 1–3, timed on 4–6),
// (a) 32 @ 1e-3, (b) Lightning's power-mode batch finder with the rate unchanged and with the
// linear rule, and (c) Lightning's lr_find at batch 32. Raw results go to one JSON-lines file per
// workload and backend; a rerun with the same --out resumes. `npm run bench:report` builds the
// tables in docs/benchmarks.md from them.
//
//   npm run bench:tuner -- --workload small-mnist [--backends wasm,torch-cpu] [--out DIR]
//   npm run bench:tuner -- --all                      every workload on wasm and torch-cpu (≈ 2 h here)
//   npm run bench:tuner -- --all --grid-from docs/bench-results/2026-11-30/tuner   a changed search, timed
//       anew against the grid and oracle fixed before (only the timed runs are measured)
//   npm run bench:tuner -- --model small --source DIR [--backend webgpu] [--max-epochs 6] [--samples N]
//       [--image-size 32x32 --image-fit pad --rgb] [--json out.json]   a workload of your own (scripts/gpu-check.sh)
//   npm run bench:tuner -- --adaptive --workload small-mnist,mlp-table --backends torch-cpu --grid-from docs/bench-results/2026-11-30/tuner
//       --adaptive against the tuned fixed batch, to the target that grid fixed (bench/tuner/adaptive.ts)
//   npm run bench:tuner -- --pytorch-user [--backend torch-cpu] [--repeats 3] [--threads 2] [--target 0.95] …
//       Auto-tune against a PyTorch user at batch 32, Adam 1e-3 (bench/peer_time_to_target.py)
//   npm run bench:tuner -- --settings 32@1e-3,64@2e-3 [--repeats 3] [--target 0.97] [--model …] …
//       only these fixed settings, each to the target (median over seeds 1…N)
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_CHOICES, MODEL_KINDS, type BackendChoice, type ModelKind } from '../src/shared/run-types.js';
import { benchCore, imageImportOptions, importSource } from './harness.js';
import { againstPytorchUser } from './tuner/pytorch-user.js';
import { fixedSettings, parseSettings } from './tuner/fixed-settings.js';
import { RecordFile, resultsFile } from './tuner/records.js';
import { summarise, workloadSection } from './tuner/report.js';
import { gitCommit, machineText, runWorkload } from './tuner/runner.js';
import { adaptiveWorkload } from './tuner/adaptive.js';
import { findWorkload, WORKLOADS, type Workload } from './tuner/workloads.js';

const { values: args } = parseArgs({
  options: {
    workload: { type: 'string' },
    all: { type: 'boolean' },
    backends: { type: 'string' },
    backend: { type: 'string' },
    out: { type: 'string' },
    'pick-seeds': { type: 'string', default: '1,2,3' },
    'timed-seeds': { type: 'string', default: '4,5,6' },
    // Take the ceiling, grid and oracle of this earlier results folder (same workloads and
    // settings): only the timed runs, every setting on every timed seed, are measured anew.
    'grid-from': { type: 'string' },
    // --adaptive: the adaptive batch against the tuned fixed batch (needs --grid-from for the target).
    adaptive: { type: 'boolean' },
    // A workload of one's own:
    model: { type: 'string' },
    source: { type: 'string' },
    samples: { type: 'string' },
    'max-epochs': { type: 'string' },
    'image-size': { type: 'string' },
    'image-fit': { type: 'string' },
    rgb: { type: 'boolean' },
    json: { type: 'string' },
    // --pytorch-user and --settings:
    'pytorch-user': { type: 'boolean' },
    settings: { type: 'string' },
    target: { type: 'string', default: '0.95' },
    repeats: { type: 'string', default: '1' },
    'validations-per-epoch': { type: 'string', default: '4' },
    threads: { type: 'string', default: String(Math.min(2, os.cpus().length)) },
    python: { type: 'string', default: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3' },
  },
});

function wholeNumbers(flag: string, text: string): number[] {
  const xs = text.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`--${flag}: whole numbers separated by commas, got "${text}"`);
  return xs;
}
function positiveInt(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: a whole number ≥ 1, got "${text}"`);
  return n;
}
function backendChoice(text: string): BackendChoice {
  if (!(BACKEND_CHOICES as readonly string[]).includes(text)) throw new Error(`--backend: one of ${BACKEND_CHOICES.join(', ')}; got "${text}"`);
  return text as BackendChoice;
}

/** --model/--source: a workload of one's own, under the name custom-<model>. */
function customWorkload(): Workload {
  const model = args.model ?? 'small';
  if (!(MODEL_KINDS as readonly string[]).includes(model)) throw new Error(`--model: one of ${MODEL_KINDS.join(', ')}; got "${model}"`);
  const source = args.source ?? 'sample:mnist';
  const samples = positiveInt('samples', args.samples, 4000);
  const image = imageImportOptions(args);
  return {
    name: `custom-${model}`,
    about: `the ${model} model on ${source === 'sample:mnist' ? 'the MNIST sample' : path.basename(source)}`,
    model: model as ModelKind,
    samples,
    maxEpochs: positiveInt('max-epochs', args['max-epochs'], 6),
    load: (api) => importSource(api, source, { name: 'bench-custom', limit: samples, ...image }),
  };
}

function chosenWorkloads(): Workload[] {
  if (args.all) return [...WORKLOADS];
  if (args.workload) {
    return args.workload.split(',').map((name) => {
      const w = findWorkload(name.trim());
      return args['max-epochs'] ? { ...w, maxEpochs: positiveInt('max-epochs', args['max-epochs'], w.maxEpochs) } : w;
    });
  }
  return [customWorkload()];
}

// --pytorch-user: the PyTorch user and the app compute with the same threads (trainer processes,
// started from here on, inherit this).
if (args['pytorch-user']) process.env.AUTOBATCH_WASM_THREADS ??= args.threads;
const bench = benchCore('tuner');

async function honestBenchmark(): Promise<void> {
  const pickSeeds = wholeNumbers('pick-seeds', args['pick-seeds']);
  const timedSeeds = wholeNumbers('timed-seeds', args['timed-seeds']);
  if (pickSeeds.some((s) => timedSeeds.includes(s)))
    throw new Error('--pick-seeds and --timed-seeds must not share a seed: the oracle is timed on fresh seeds');
  const backends = (args.backend ?? args.backends ?? 'wasm,torch-cpu').split(',').map((b) => backendChoice(b.trim()));
  const out = path.resolve(args.out ?? path.join('docs', 'bench-results', new Date().toISOString().slice(0, 10), 'tuner'));
  const available = await bench.api.detectBackends({});
  const summaries: unknown[] = [];
  for (const workload of chosenWorkloads()) {
    // Imported once, for every backend (a second import under the same name would be refused).
    let loaded: Awaited<ReturnType<Workload['load']>> | undefined;
    for (const backend of backends) {
      const rung = available.backends.find((b) => b.choice === backend);
      if (rung && !rung.available) {
        bench.log(`[${workload.name} · ${backend}] skipped: ${rung.reason ?? 'not available here'}`);
        continue;
      }
      const dataset = (loaded ??= await workload.load(bench.api, bench.home));
      if (args.adaptive) {
        if (!args['grid-from']) throw new Error("--adaptive: give --grid-from, the folder whose grids fixed each workload's target");
        const table = await adaptiveWorkload({
          bench,
          workload,
          backend,
          dataset,
          timedSeeds,
          gridFrom: args['grid-from'],
          out: path.resolve(args.out ?? path.join('docs', 'bench-results', new Date().toISOString().slice(0, 10), 'adaptive')),
          commit: gitCommit(),
          machine: machineText(),
        });
        process.stdout.write(table + '\n');
        continue;
      }
      const file = new RecordFile(resultsFile(out, workload.name, backend));
      bench.log(`[${workload.name} · ${backend}] results in ${path.relative(process.cwd(), file.file)} (${file.records.length} already there)`);
      const gridFile = args['grid-from'] ? resultsFile(path.resolve(args['grid-from']), workload.name, backend) : undefined;
      if (gridFile && !existsSync(gridFile)) throw new Error(`--grid-from: ${gridFile} does not exist`);
      const gridFrom = gridFile && file.records.length === 0 ? new RecordFile(gridFile) : undefined;
      await runWorkload({ bench, workload, backend, dataset, file, pickSeeds, timedSeeds, ...(gridFrom ? { gridFrom } : {}) });
      process.stdout.write(workloadSection(file.records, workload.about) + '\n');
      summaries.push({
        workload: workload.name,
        backend,
        file: file.file,
        oracle: file.of('oracle')[0] ?? null,
        settings: Object.fromEntries(
          [...summarise(file.records)].map(([k, s]) => [k, { median: s.median, min: s.min, max: s.max, reached: s.reached, seeds: s.runs.length }]),
        ),
      });
    }
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), out, summaries }, null, 2));
}

async function main(): Promise<void> {
  if (!args['pytorch-user'] && args.settings === undefined) return honestBenchmark();
  const source = args.source ?? 'sample:mnist';
  const samples = positiveInt('samples', args.samples, 10000);
  const image = imageImportOptions(args);
  const threads = args.threads;
  const ds = await importSource(bench.api, source, { name: 'bench-mnist', limit: samples, ...image });
  const model = args.model ?? 'small';
  if (!(MODEL_KINDS as readonly string[]).includes(model)) throw new Error(`--model: one of ${MODEL_KINDS.join(', ')}; got "${model}"`);
  const target = Number(args.target);
  if (!(target > 0 && target <= 1)) throw new Error(`--target: an accuracy in (0, 1], got "${args.target}"`);
  const common = {
    datasetId: ds.id,
    model: model as ModelKind,
    backend: backendChoice(args.backend ?? 'wasm'),
    target,
    maxEpochs: positiveInt('max-epochs', args['max-epochs'], 12),
    validationsPerEpoch: positiveInt('validations-per-epoch', args['validations-per-epoch'], 4),
    seeds: positiveInt('repeats', args.repeats, 1),
  };
  if (args.settings !== undefined) return fixedSettings(bench, common, parseSettings(args.settings));
  await againstPytorchUser(bench, {
    ...common,
    trainCount: ds.trainCount,
    source,
    samples,
    image,
    threads,
    python: args.python,
    json: args.json,
  });
}

bench.run(main);
