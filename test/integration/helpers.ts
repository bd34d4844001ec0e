import { after } from 'node:test';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AutoBatchService } from '../../src/main/service/service.js';
import { encodeIdxHeader } from '../../src/main/engine/datasets/idx.js';
import { createRng } from '../../src/shared/random.js';

export function tempHome(prefix = 'autobatch-it-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A service on a fresh data folder with the MNIST sample (limited) imported. */
export async function serviceWithMnist(limit = 2000): Promise<{ service: AutoBatchService; datasetId: number; home: string }> {
  const home = tempHome();
  const service = new AutoBatchService({ home });
  const ds = await service.importDataset('sample:mnist', { name: 'mnist', limit });
  return { service, datasetId: ds.id, home };
}

/**
 * One MNIST sample import shared by a whole test file (its service closed after the file): the
 * cached dataset folder that trainer jobs read.
 */
export function sharedMnistDir(limit: number): () => Promise<string> {
  let shared: Promise<{ dir: string; close: () => Promise<void> }> | undefined;
  after(async () => {
    if (shared) await (await shared).close();
  });
  return async () => {
    shared ??= serviceWithMnist(limit).then(({ service, datasetId }) => ({ dir: service.getDataset(datasetId).cacheDir, close: () => service.close() }));
    return (await shared).dir;
  };
}

/** An IDX pair of `count` size×size images, two classes (a bright square left or right). */
export function writeSquaresIdx(dir: string, count: number, size: number): void {
  mkdirSync(dir, { recursive: true });
  const rng = createRng(11);
  const pixels = Buffer.alloc(count * size * size);
  const labels = Buffer.alloc(count);
  const side = size / 4;
  for (let n = 0; n < count; n++) {
    labels[n] = n % 2;
    const base = n * size * size;
    for (let i = 0; i < size * size; i++) pixels[base + i] = Math.floor(rng() * 96);
    const ox = (n % 2) * (size / 2) + Math.floor(rng() * side);
    for (let y = side; y < 2 * side; y++) for (let x = ox; x < ox + side; x++) pixels[base + y * size + x] = 255;
  }
  writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), Buffer.concat([encodeIdxHeader(0x08, [count, size, size]), pixels]));
  writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), Buffer.concat([encodeIdxHeader(0x08, [count]), labels]));
}
