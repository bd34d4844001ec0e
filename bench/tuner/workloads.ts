// The Auto-tune benchmark's workloads: what each trains, on how much data, for how long. Sizes
// are chosen so that `--all` (every workload on wasm and torch-cpu) fits in about two hours on a
// 2-core machine, with grids of 4 batches × 3–5 rates × 3 seeds; none of them was chosen by
// looking at how the tuner fares on it.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Api } from '../../src/shared/api/index.js';
import type { ModelKind } from '../../src/shared/run-types.js';
import { createRng } from '../../src/shared/random.js';
import { importSource, type ImageImportOptions } from '../harness.js';

export interface Workload {
  name: string;
  /** In words, for the report. */
  about: string;
  model: ModelKind;
  /** Samples imported (the app's default validation split of 20 % comes off them). */
  samples: number;
  maxEpochs: number;
  /** Imports the dataset through the API; resolves with its id and split. */
  load(api: Api, home: string): Promise<{ id: number; trainCount: number; validationCount: number }>;
}

/** A slice of the MNIST sample, named for its workload (several are imported into one bench home under --all). */
function sample(name: string, limit: number, image: ImageImportOptions = {}) {
  return (api: Api) => importSource(api, 'sample:mnist', { name: `bench-${name}`, limit, ...image });
}

/** Rows, features and classes of the generated table. */
export const TABLE = { rows: 6000, features: 16, hidden: 8, classes: 4, labelNoise: 0.05, seed: 17 } as const;

/**
 * A tabular data set with a known structure: 16 standard-normal features, the class the argmax
 * of a fixed random one-hidden-layer tanh network of them, 5 % of labels replaced at random. A
 * linear model cannot fit it; an MLP can, up to the label noise (≈ 96 % at best).
 */
export function generateTable(rows: number = TABLE.rows, seed: number = TABLE.seed): string {
  const rng = createRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const w1 = Array.from({ length: TABLE.hidden }, () => Array.from({ length: TABLE.features }, () => normal() / Math.sqrt(TABLE.features / 4)));
  const w2 = Array.from({ length: TABLE.classes }, () => Array.from({ length: TABLE.hidden }, normal));
  const lines = [[...Array.from({ length: TABLE.features }, (_, i) => `f${i + 1}`), 'label'].join(',')];
  for (let r = 0; r < rows; r++) {
    const x = Array.from({ length: TABLE.features }, normal);
    const h = w1.map((w) => Math.tanh(w.reduce((s, wi, i) => s + wi * x[i]!, 0)));
    const scores = w2.map((w) => w.reduce((s, wi, i) => s + wi * h[i]!, 0));
    let y = scores.indexOf(Math.max(...scores));
    if (rng() < TABLE.labelNoise) y = Math.floor(rng() * TABLE.classes);
    lines.push([...x.map((v) => v.toFixed(5)), `c${y}`].join(','));
  }
  return lines.join('\n') + '\n';
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'small-mnist',
    about: 'the small CNN on 4 000 images of the MNIST sample (28×28 grey)',
    model: 'small',
    samples: 4000,
    maxEpochs: 6,
    load: (api) => sample('small-mnist', 4000)(api),
  },
  {
    name: 'large-mnist',
    about: 'the large CNN on 2 000 images of the MNIST sample',
    model: 'large',
    samples: 2000,
    maxEpochs: 5,
    load: (api) => sample('large-mnist', 2000)(api),
  },
  {
    name: 'mlp-table',
    about: `the MLP on a generated table (${TABLE.rows} rows, ${TABLE.features} numeric features, ${TABLE.classes} classes from a fixed random tanh network, ${TABLE.labelNoise * 100} % label noise)`,
    model: 'mlp',
    samples: TABLE.rows,
    maxEpochs: 12,
    load: (api, home) => {
      const file = path.join(home, 'table', 'bench-table.csv');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, generateTable());
      return importSource(api, file, { name: 'bench-table' });
    },
  },
  {
    name: 'resnet8-32',
    about: 'ResNet-8 on 2 000 images of the MNIST sample padded to 32×32 RGB',
    model: 'resnet-8',
    samples: 2000,
    maxEpochs: 5,
    load: (api) => sample('resnet8-32', 2000, { imageSize: [32, 32], imageFit: 'pad', grayscale: false })(api),
  },
];

export function findWorkload(name: string): Workload {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(`--workload: one of ${WORKLOADS.map((x) => x.name).join(', ')}; got "${name}"`);
  return w;
}
