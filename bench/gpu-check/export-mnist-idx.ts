// Writes the MNIST sample (the `mnist` package's digits, as `sample:mnist` imports them) as an IDX
// pair, so that a machine without that package (the GPU check bundle) imports the same images
// and labels from a plain folder.
//
//   node dist/bench/gpu-check/export-mnist-idx.js <out-dir> [--limit 10000]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeIdxHeader } from '../../src/main/engine/datasets/idx.js';
import { importDataset, loadDataset } from '../../src/main/engine/datasets/index.js';

async function exportMnistIdx(outDir: string, limit: number): Promise<{ count: number }> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mnist-idx-'));
  try {
    const cache = path.join(tmp, 'cache');
    await importDataset('sample:mnist', { limit }, cache);
    const ld = loadDataset(cache);
    if (!(ld.x instanceof Uint8Array)) throw new Error('the MNIST sample cache is not stored as bytes');
    const [h, w] = ld.manifest.inputShape as [number, number, number];
    const count = ld.y.length;
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'train-images-idx3-ubyte'), Buffer.concat([encodeIdxHeader(0x08, [count, h, w]), ld.x]));
    writeFileSync(path.join(outDir, 'train-labels-idx1-ubyte'), Buffer.concat([encodeIdxHeader(0x08, [count]), Uint8Array.from(ld.y)]));
    return { count };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { limit: { type: 'string', default: '10000' } } });
if (positionals.length !== 1) {
  process.stderr.write('usage: export-mnist-idx <out-dir> [--limit 10000]\n');
  process.exit(2);
}
const { count } = await exportMnistIdx(positionals[0]!, Number(values.limit));
process.stdout.write(`wrote ${count} MNIST samples as IDX to ${positionals[0]}\n`);
