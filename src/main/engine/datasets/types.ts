import type { DatasetKind, ImportOptions, ImportProgress } from '../../../shared/dataset-types.js';
import type { InputUnit, ProblemLog } from './problems.js';

/** What an importer hands to the common pipeline (limit, split, normalisation, cache). */
export interface RawDataset {
  kind: DatasetKind;
  /** [H, W, C] or [F]. */
  inputShape: number[];
  featureDtype: 'uint8' | 'float32';
  /** count × prod(inputShape) values, sample-major. */
  x: Uint8Array | Float32Array;
  /** Class index of each sample. */
  y: Uint16Array;
  classes: string[];
  /** Images: value × scale. Absent for tabular data, which is standardised on the train split. */
  scale?: number;
  unit: InputUnit;
  /** Names a class in problem reports (its folder, or the file holding its labels). */
  classFile(k: number): string;
  /**
   * Why a class has no usable samples, for the problem report; null when already reported.
   * Default: 'no usable samples'.
   */
  emptyReason?(k: number): string | null;
  /** CSV: 1-based row of each sample, for problem reports. */
  rows?: Uint32Array;
  /** True when the importer already applied options.limit (image folders: before decoding). */
  limited?: boolean;
}

export interface ImporterContext {
  /** Absolute path of the source (or 'sample:mnist'). */
  source: string;
  options: ImportOptions;
  seed: number;
  log: ProblemLog;
  progress: (phase: ImportProgress['phase'], done: number, total: number) => void;
}
