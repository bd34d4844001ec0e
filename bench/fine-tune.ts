// Does starting from a trained model help? A model is trained on digits 0–4 of the bundled MNIST
// sample; then digits 5–9 are learnt from only a few samples per class, once fine-tuned from that
// model (its backbone frozen, or its last blocks unfrozen) and once from scratch with the same
// architecture, on the same samples, judged on one fixed evaluation set of other 5–9 digits.
//
// Fair by construction: every setting trains on the same samples and seeds, interleaved seed by
// seed; fine-tuning uses the app's defaults (its rate is not tuned here), while training from
// scratch gets the best of a rate grid, picked on the evaluation set itself — a choice that can
// only flatter the baseline.
//
//   npm run bench:fine-tune -- [--seeds 1,2,3] [--per-class 10] [--eval-per-class 200] [--epochs 30]
//       [--batch 10] [--model small] [--backend wasm] [--pretrain-epochs 3] [--unfreeze 0,1]
//       [--scratch-rates 3e-4,1e-3,3e-3] [--rate 1e-3] [--json out.json]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runToEnd } from '../src/shared/api/index.js';
import type { BackendChoice, ModelKind } from '../src/shared/run-types.js';
import { createRng, shuffleInPlace } from '../src/shared/random.js';
import { benchCore } from './harness.js';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3' },
    'per-class': { type: 'string', default: '10' },
    'eval-per-class': { type: 'string', default: '200' },
    epochs: { type: 'string', default: '30' },
    batch: { type: 'string', default: '10' },
    model: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    'pretrain-epochs': { type: 'string', default: '3' },
    unfreeze: { type: 'string', default: '0,1' },
    'scratch-rates': { type: 'string', default: '3e-4,1e-3,3e-3' },
    rate: { type: 'string', default: '1e-3' },
    // Rates of the unfrozen blocks over the run's (default: the app's, a tenth).
    'fine-tune-factor': { type: 'string' },
    // Which digits the model is pre-trained on; the others are learnt from few samples.
    'pretrain-digits': { type: 'string', default: '0,1,2,3,4' },
    // Also start from an untrained model of the same architecture (one step at a negligible
    // rate): what the pre-trained weights add over the architecture alone.
    'untrained-control': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

const wholeList = (text: string, flag: string) =>
  text.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${flag}: expected whole numbers separated by commas, got "${text}"`);
    return n;
  });
const numberList = (text: string, flag: string) =>
  text.split(',').map((s) => {
    const n = Number(s);
    if (!(n > 0)) throw new Error(`--${flag}: expected positive numbers separated by commas, got "${text}"`);
    return n;
  });

const seeds = wholeList(args.seeds, 'seeds');
const [perClass] = wholeList(args['per-class'], 'per-class');
const [evalPerClass] = wholeList(args['eval-per-class'], 'eval-per-class');
const [epochs] = wholeList(args.epochs, 'epochs');
const [batchSize] = wholeList(args.batch, 'batch');
const [pretrainEpochs] = wholeList(args['pretrain-epochs'], 'pretrain-epochs');
const unfreezeLevels = wholeList(args.unfreeze, 'unfreeze');
const scratchRates = numberList(args['scratch-rates'], 'scratch-rates');
const fineTuneRates = numberList(args.rate, 'rate');
const fineTuneFactor = args['fine-tune-factor'] === undefined ? undefined : numberList(args['fine-tune-factor'], 'fine-tune-factor')[0];
const pretrainDigits = wholeList(args['pretrain-digits'], 'pretrain-digits');
const targetDigits = [...Array(10).keys()].filter((d) => !pretrainDigits.includes(d));
if (pretrainDigits.some((d) => d > 9) || targetDigits.length < 2)
  throw new Error(`--pretrain-digits: expected digits 0–9 leaving at least two to learn, got "${args['pretrain-digits']}"`);
const model = args.model as ModelKind;
const backend = args.backend as BackendChoice;

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** The sample's digits of class d, as 0–255 bytes (the importer's reading of the same files). */
function sampleDigits(d: number): Uint8Array[] {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const data = (JSON.parse(readFileSync(path.join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data;
  const out: Uint8Array[] = [];
  for (let i = 0; i + PIXELS <= data.length; i += PIXELS)
    out.push(Uint8Array.from(data.slice(i, i + PIXELS), (v) => Math.min(255, Math.max(0, Math.round(v * 255)))));
  return out;
}

/** An IDX pair (images N×28×28, labels N) named so the importer pairs them. */
function writeIdx(dir: string, name: string, images: Uint8Array[], labels: number[]): string {
  mkdirSync(dir, { recursive: true });
  const head = Buffer.alloc(16);
  head.writeUInt32BE(0x00000803, 0);
  head.writeUInt32BE(images.length, 4);
  head.writeUInt32BE(SIDE, 8);
  head.writeUInt32BE(SIDE, 12);
  const imagesFile = path.join(dir, `${name}-images-idx3-ubyte`);
  writeFileSync(imagesFile, Buffer.concat([head, ...images.map((a) => Buffer.from(a))]));
  const labelHead = Buffer.alloc(8);
  labelHead.writeUInt32BE(0x00000801, 0);
  labelHead.writeUInt32BE(labels.length, 4);
  writeFileSync(path.join(dir, `${name}-labels-idx1-ubyte`), Buffer.concat([labelHead, Buffer.from(labels)]));
  return imagesFile;
}

interface Outcome {
  setting: string;
  seed: number;
  learningRate: number;
  finalValAccuracy: number;
  bestValAccuracy: number;
  trainSeconds: number;
}

const bench = benchCore('fine-tune');
const { api, log, home } = bench;

async function train(
  dataset: number,
  setting: string,
  seed: number,
  learningRate: number,
  extra: { startFrom?: { source: string; unfreeze: number; fineTuneLearningRate?: number } },
): Promise<Outcome> {
  const { run } = await runToEnd(api, () =>
    api.startTraining({ dataset, config: { model, batchSize, epochs, learningRate, seed, backend, optimizer: 'adam' }, ...extra }),
  );
  if (run.status !== 'completed') throw new Error(`${setting} seed ${seed}: the run ended ${run.status}: ${run.error ?? ''}`);
  const outcome = {
    setting,
    seed,
    learningRate,
    finalValAccuracy: run.finalValAccuracy ?? NaN,
    bestValAccuracy: run.bestValAccuracy ?? NaN,
    trainSeconds: run.trainSeconds ?? NaN,
  };
  log(
    `${setting} seed ${seed}: ${(outcome.finalValAccuracy * 100).toFixed(1)} % (best ${(outcome.bestValAccuracy * 100).toFixed(1)} %) in ${outcome.trainSeconds.toFixed(1)} s`,
  );
  return outcome;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

bench.run(async () => {
  const idxDir = path.join(home, 'idx');
  // Pre-training: every sample digit 0–4.
  const preImages: Uint8Array[] = [];
  const preLabels: number[] = [];
  for (const d of pretrainDigits) {
    for (const img of sampleDigits(d)) {
      preImages.push(img);
      preLabels.push(d);
    }
  }
  // Fine-tuning: per class 5–9, perClass training and evalPerClass evaluation samples, drawn once
  // (fixed seed); the import's stratified split then keeps exactly evalPerClass per class apart.
  const ftImages: Uint8Array[] = [];
  const ftLabels: number[] = [];
  const pick = createRng(20261130);
  for (const d of targetDigits) {
    const all = sampleDigits(d);
    const order = Uint32Array.from(all.keys());
    shuffleInPlace(order, pick);
    if (all.length < perClass! + evalPerClass!) throw new Error(`digit ${d} has ${all.length} samples, ${perClass! + evalPerClass!} needed`);
    for (const i of order.subarray(0, perClass! + evalPerClass!)) {
      ftImages.push(all[i]!);
      ftLabels.push(d);
    }
  }
  const pre = await api.importDataset({ source: writeIdx(idxDir, 'pre', preImages, preLabels), name: `digits-${pretrainDigits.join('')}` });
  const ft = await api.importDataset({
    source: writeIdx(idxDir, 'ft', ftImages, ftLabels),
    name: `digits-${targetDigits.join('')}-few`,
    validationFraction: evalPerClass! / (perClass! + evalPerClass!),
    seed: 1,
  });
  const trainCount = ft.trainCount;
  log(`pre-training set: ${pre.trainCount} training samples; fine-tuning set: ${trainCount} training, ${ft.validationCount} evaluation samples`);
  if (trainCount !== perClass! * targetDigits.length)
    throw new Error(`expected ${perClass! * targetDigits.length} training samples, the split kept ${trainCount}`);

  const { run: pretrained } = await runToEnd(api, () =>
    api.startTraining({ dataset: pre.id, config: { model, batchSize: 64, epochs: pretrainEpochs, learningRate: 1e-3, seed: 1, backend } }),
  );
  if (pretrained.status !== 'completed') throw new Error(`pre-training ended ${pretrained.status}: ${pretrained.error ?? ''}`);
  log(`pre-trained ${model} on digits ${pretrainDigits.join(', ')}: run ${pretrained.id}, ${((pretrained.finalValAccuracy ?? 0) * 100).toFixed(1)} %`);

  const starts = [{ label: 'fine-tuned', runId: pretrained.id }];
  if (args['untrained-control']) {
    const { run: untrained } = await runToEnd(api, () =>
      api.startTraining({ dataset: pre.id, config: { model, batchSize: 64, epochs: 1, learningRate: 1e-12, seed: 1, backend }, maxSteps: 1 }),
    );
    if (untrained.status !== 'completed') throw new Error(`the untrained control ended ${untrained.status}: ${untrained.error ?? ''}`);
    starts.push({ label: 'from an untrained model', runId: untrained.id });
  }

  const outcomes: Outcome[] = [];
  for (const seed of seeds) {
    for (const start of starts) {
      for (const unfreeze of unfreezeLevels) {
        for (const lr of fineTuneRates) {
          const startFrom = { source: String(start.runId), unfreeze, ...(fineTuneFactor !== undefined ? { fineTuneLearningRate: lr * fineTuneFactor } : {}) };
          outcomes.push(await train(ft.id, `${start.label}, unfreeze ${unfreeze} @ ${lr}`, seed, lr, { startFrom }));
        }
      }
    }
    for (const lr of scratchRates) outcomes.push(await train(ft.id, `from scratch @ ${lr}`, seed, lr, {}));
  }

  const settings = [...new Set(outcomes.map((o) => o.setting))];
  const rows = settings.map((setting) => {
    const of = outcomes.filter((o) => o.setting === setting);
    const final = of.map((o) => o.finalValAccuracy);
    return { setting, mean: mean(final), sd: sd(final), best: mean(of.map((o) => o.bestValAccuracy)), seconds: mean(of.map((o) => o.trainSeconds)), final };
  });
  const scratch = rows.filter((r) => r.setting.startsWith('from scratch'));
  const bestScratch = scratch.reduce((a, b) => (b.mean > a.mean ? b : a));
  console.log(
    `\n${model} on digits ${targetDigits.join(', ')} (pre-trained on ${pretrainDigits.join(', ')}), ${perClass} training samples per class, ${epochs} epochs at batch ${batchSize}, ${backend}; evaluation: ${ft.validationCount} other such digits; seeds ${seeds.join(', ')}`,
  );
  console.log('| setting | final accuracy (mean ± sd) | per seed | best during the run | train s |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    const mark = r === bestScratch ? ' (best from scratch)' : '';
    console.log(
      `| ${r.setting}${mark} | ${(r.mean * 100).toFixed(1)} ± ${(r.sd * 100).toFixed(1)} % | ${r.final.map((v) => (v * 100).toFixed(1)).join(' / ')} | ${(r.best * 100).toFixed(1)} % | ${r.seconds.toFixed(1)} |`,
    );
  }
  for (const r of rows.filter((x) => !x.setting.startsWith('from scratch'))) {
    console.log(`${r.setting}: ${((r.mean - bestScratch.mean) * 100).toFixed(1)} points over the best rate from scratch (${bestScratch.setting})`);
  }
  if (args.json) {
    writeFileSync(
      args.json,
      JSON.stringify({ args, pretrained: { id: pretrained.id, finalValAccuracy: pretrained.finalValAccuracy }, outcomes, rows }, null, 2),
    );
  }
});
