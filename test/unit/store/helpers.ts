import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatasetManifest } from '../../../src/shared/dataset-types.js';
import type { TrainConfig } from '../../../src/shared/run-types.js';

export function tempHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'autobatch-store-'));
}

export function rmHome(home: string): void {
  fs.rmSync(home, { recursive: true, force: true });
}

/** A second, raw connection to a store's file, for inspecting or damaging it. */
export function raw(home: string): Database.Database {
  return new Database(path.join(home, 'autobatch.db'));
}

export function manifest(name: string, overrides: Partial<DatasetManifest> = {}): DatasetManifest {
  return {
    formatVersion: 1,
    name,
    kind: 'csv',
    source: `/data/${name}.csv`,
    inputShape: [4],
    featureDtype: 'float32',
    count: 150,
    classes: ['setosa', 'versicolor', 'virginica'],
    classCounts: [50, 50, 50],
    split: { seed: 1, validationFraction: 0.2, trainCount: 120, validationCount: 30 },
    normalization: { kind: 'standardize', mean: [5.8, 3, 3.7, 1.2], std: [0.8, 0.4, 1.7, 0.7] },
    problems: [{ file: 'iris.csv', row: 7, reason: 'expected 5 columns, found 4' }],
    skipped: 1,
    previews: [{ classIndex: 0, index: 0, values: [5.1, 3.5, 1.4, 0.2] }],
    createdAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function config(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    model: 'mlp',
    batchSize: 32,
    epochs: 2,
    learningRate: 0.001,
    optimizer: 'adam',
    momentum: 0.9,
    warmupSteps: 0,
    backend: 'cpu',
    seed: 42,
    ...overrides,
  };
}
