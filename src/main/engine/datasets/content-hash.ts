// The content hash of a cached dataset (issue 20: a tuning knows when it is stale). The manifest
// holds no hash, and its meta.json cannot stand in: it names the dataset and the time of import,
// so two imports of the same data would differ. What a model trains on is the cache's samples,
// labels and split plus how they are read (shape, dtype, classes, normalization), so those are
// hashed. The cache is written once at import and never changed by the app, so the service
// hashes it then (one read of files it has just written) and keeps the hash in the database;
// datasets imported before hashes were kept are hashed from their folder the first time a
// fingerprint needs it. Files are streamed: an image dataset's x.bin can be gigabytes.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { DatasetManifest } from '../../../shared/dataset-types.js';
import { CACHE_FILES } from './cache.js';

const HASHED_FILES = [CACHE_FILES.x, CACHE_FILES.y, CACHE_FILES.train, CACHE_FILES.validation] as const;

async function streamInto(hash: Hash, file: string): Promise<number> {
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return bytes;
}

/** sha256 (hex) of the dataset's cached content; rejects when a cache file cannot be read. */
export async function datasetContentHash(
  cacheDir: string,
  manifest: Pick<DatasetManifest, 'inputShape' | 'featureDtype' | 'classes' | 'normalization'>,
): Promise<string> {
  const hash = createHash('sha256');
  const { inputShape, featureDtype, classes, normalization } = manifest;
  hash.update(JSON.stringify({ inputShape, featureDtype, classes, normalization }));
  for (const name of HASHED_FILES) {
    // Each file's name and length go in too, so bytes moved from one file to the next still differ.
    const fileHash = createHash('sha256');
    const bytes = await streamInto(fileHash, path.join(cacheDir, name));
    hash.update(`\n${name}:${bytes}:${fileHash.digest('hex')}`);
  }
  return hash.digest('hex');
}
