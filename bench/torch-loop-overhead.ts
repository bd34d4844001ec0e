// The torch engine's training loop against the bare PyTorch loop, in one Python process, epochs
// interleaved (bench/torch-loop-overhead.py says why one process). This driver imports the
// bundled sample, has the app prepare each model's net as a torch-cpu run would
// (prepareTorchJob: the same tfjs net, saved), runs the comparison and prints the median
// engine ÷ bare ratio per model and batch.
//
//   npm run bench:torch-overhead -- [--models small,large,resnet-20] [--batches 32,64,256]
//       [--samples 4000] [--threads 2] [--rounds 3] [--python /usr/bin/python3] [--json out.json]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { importDataset } from '../src/main/engine/datasets/index.js';
import { prepareTorchJob } from '../src/main/service/python-trainer.js';
import { pythonProcessEnv } from '../src/main/service/python-discovery.js';
import { MODEL_KINDS, type ModelKind } from '../src/shared/run-types.js';
import type { PreparedNet } from '../src/shared/trainer-protocol.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'small,large,resnet-20' },
    batches: { type: 'string', default: '32,64,256' },
    samples: { type: 'string', default: '4000' },
    threads: { type: 'string', default: String(Math.min(2, os.cpus().length)) },
    rounds: { type: 'string', default: '3' },
    python: { type: 'string', default: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3' },
    json: { type: 'string' },
  },
});
const models = args.models.split(',') as ModelKind[];
for (const m of models) if (!(MODEL_KINDS as readonly string[]).includes(m)) throw new Error(`--models: unknown model "${m}"`);
const wholeNumber = (flag: string, value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: expected a whole number ≥ 1, got "${value}"`);
  return n;
};
const samples = wholeNumber('samples', args.samples);
wholeNumber('threads', args.threads);
wholeNumber('rounds', args.rounds);
for (const b of args.batches.split(',')) wholeNumber('batches', b);

interface Row {
  model: string;
  batch: number;
  round: number;
  engine: number;
  bare: number;
  ratio: number;
  /** The bare loop on the peer script's layout (channels-last strides for one-channel images). */
  bareChannelsLast: number;
  threads: number;
  torch: string;
  parameters: { engine: number; bare: number };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'autobatch-bench-torch-overhead-'));
  try {
    const datasetDir = path.join(home, 'dataset');
    process.stderr.write(`Importing the MNIST sample (${samples} training samples)…\n`);
    await importDataset('sample:mnist', { name: 'bench', limit: Math.round(samples / 0.8), validationFraction: 0.2 }, datasetDir);
    const nets: Record<string, PreparedNet> = {};
    for (const model of models) {
      const work = path.join(home, `net-${model}`);
      mkdirSync(work);
      const config = {
        model,
        batchSize: 32,
        epochs: 1,
        learningRate: 1e-3,
        optimizer: 'adam' as const,
        momentum: 0.9,
        warmupSteps: 0,
        backend: 'torch-cpu' as const,
        seed: 1,
      };
      const prep = await prepareTorchJob({ kind: 'train', runId: 1, datasetDir, config }, work);
      if (!prep.ok) throw new Error(`preparing ${model}: ${prep.message}`);
      nets[model] = prep.prepared;
    }
    process.stderr.write(`Running engine and bare loops interleaved (${args.rounds} rounds)…\n`);
    const script = path.join(root, 'bench/torch-loop-overhead.py');
    const r = spawnSync(
      args.python,
      [script, '--dataset', datasetDir, '--nets', JSON.stringify(nets), '--batches', args.batches, '--threads', args.threads, '--rounds', args.rounds],
      { encoding: 'utf8', env: pythonProcessEnv(), stdio: ['ignore', 'pipe', 'inherit'], timeout: 3_600_000 },
    );
    if (r.status !== 0)
      throw new Error(
        `the comparison failed (exit ${r.status}${r.error ? `: ${r.error.message}` : ''}); is PyTorch installed? (apt-get install python3-torch)`,
      );
    const rows = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Row);
    for (const row of rows) {
      if (row.parameters.engine !== row.parameters.bare)
        process.stderr.write(`WARNING: ${row.model}: engine ${row.parameters.engine} trainable parameters, bare ${row.parameters.bare}\n`);
    }
    const first = rows[0];
    console.log(
      `Torch engine loop ÷ bare PyTorch loop, one process, epochs interleaved (${samples} MNIST samples, Adam, ${first?.threads} threads, PyTorch ${first?.torch}; median of ${args.rounds} rounds)`,
    );
    // Two summaries: the median of the rounds' paired ratios, and best ÷ best (the fastest epoch of
    // each loop: whatever else runs on the machine only slows an epoch down, so the best epochs
    // are the least disturbed measure on a busy machine).
    console.log(
      ['model', 'batch', 'engine samples/s (median, best)', 'bare samples/s (median, best)', 'engine ÷ bare (median paired)', 'best ÷ best', 'each round'].join(
        ' | ',
      ),
    );
    for (const model of models) {
      for (const batch of args.batches.split(',').map(Number)) {
        const mine = rows.filter((x) => x.model === model && x.batch === batch);
        if (!mine.length) continue;
        const ratios = mine.map((x) => x.ratio);
        console.log(
          [
            model,
            batch,
            `${median(mine.map((x) => x.engine)).toFixed(0)}, ${Math.max(...mine.map((x) => x.engine)).toFixed(0)}`,
            `${median(mine.map((x) => x.bare)).toFixed(0)}, ${Math.max(...mine.map((x) => x.bare)).toFixed(0)}`,
            `${median(ratios).toFixed(2)}×`,
            `${(Math.max(...mine.map((x) => x.engine)) / Math.max(...mine.map((x) => x.bare))).toFixed(2)}×`,
            ratios.map((x) => x.toFixed(2)).join(' '),
            median(mine.map((x) => x.bareChannelsLast)).toFixed(0),
            `${median(mine.map((x) => x.engine / x.bareChannelsLast)).toFixed(2)}×`,
          ].join(' | '),
        );
      }
    }
    if (args.json)
      writeFileSync(
        args.json,
        JSON.stringify({ date: new Date().toISOString(), machine: `${os.cpus()[0]?.model}, ${os.cpus().length} cores`, args, rows }, null, 2),
      );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
