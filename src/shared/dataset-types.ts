// Dataset descriptions shared by the engine (which imports and loads datasets), the store
// (which records them) and every front end (which shows them). Pure data: no Node, no DOM.

export type DatasetKind = 'mnist-sample' | 'image-folder' | 'csv' | 'idx';

/** One thing wrong with the input: which file (and row, for CSV) and what was expected. */
export interface ImportProblem {
  /** Path of the bad file, relative to the imported folder where there is one. */
  file: string;
  /** 1-based row (CSV line) where the problem is, when it is about one row. */
  row?: number;
  /** Plain words: what is wrong and what was expected. */
  reason: string;
}

interface DatasetSplit {
  seed: number;
  /** Share of each class kept for validation, e.g. 0.2. */
  validationFraction: number;
  trainCount: number;
  validationCount: number;
}

/** Scaling applied when the cached features are turned into float32 model inputs. */
export type Normalization =
  | { kind: 'scale'; scale: number } // images: value * scale (1/255)
  | { kind: 'standardize'; mean: number[]; std: number[] }; // CSV: per column, from the train split

export interface PreviewSample {
  classIndex: number;
  /** Index of the sample in the cached arrays. */
  index: number;
  /** PNG file name inside the dataset's cache folder (images), absent for tabular data. */
  image?: string;
  /** First feature values (tabular data), absent for images. */
  values?: number[];
}

/**
 * meta.json of a cached dataset folder. The folder also holds:
 *   x.bin     count × prod(inputShape) values, featureDtype, little-endian, sample-major (NHWC for images)
 *   y.bin     count uint16 class indices, little-endian
 *   train.idx / val.idx  uint32 little-endian sample indices of the split
 *   previews/ PNG thumbnails named in `previews`
 */
export interface DatasetManifest {
  formatVersion: 1;
  name: string;
  kind: DatasetKind;
  /** Absolute path (or 'sample:mnist') that was imported. */
  source: string;
  /** [H, W, C] for images, [F] for tabular data. */
  inputShape: number[];
  featureDtype: 'uint8' | 'float32';
  count: number;
  classes: string[];
  classCounts: number[];
  split: DatasetSplit;
  normalization: Normalization;
  /** Problems found (see problemTotal for how many a list cut short stands for); with skipBad their inputs were left out. */
  problems: ImportProblem[];
  /** How many inputs (files, rows or samples) were left out because of problems; not the number of problems. */
  skipped: number;
  previews: PreviewSample[];
  createdAt: string;
}

export interface ImportOptions {
  name?: string;
  /** CSV: label column by header name or 0-based index (as a string of digits). */
  labelColumn?: string;
  /** Image folders: target size [H, W]. */
  imageSize?: [number, number];
  /** Image folders: true for one grey channel, false for RGB. Default true for 'auto' sources that are grey. */
  grayscale?: boolean;
  /** Leave out bad inputs (and report how many) instead of failing the whole import. */
  skipBad?: boolean;
  validationFraction?: number;
  seed?: number;
  /** Keep at most this many samples (stratified), e.g. to try things quickly. */
  limit?: number;
  /** IDX: explicit labels file when it cannot be found beside the images file. */
  labelsPath?: string;
}

export interface ImportProgress {
  phase: 'scanning' | 'decoding' | 'writing';
  done: number;
  total: number;
}
