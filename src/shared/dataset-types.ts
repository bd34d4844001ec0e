// Dataset descriptions shared by the engine (which imports and loads datasets), the store
// (which records them) and every front end (which shows them). Pure data: no Node, no DOM.
// ImportProblem, DatasetSplit and ImportProgress are defined by their zod schemas in
// dataset-schemas.ts (field docs are there) and inferred from them here.
import type { z } from 'zod';
import type { datasetSplitSchema, importProblemSchema, importProgressSchema } from './dataset-schemas.js';

export const DATASET_KINDS = ['mnist-sample', 'image-folder', 'csv', 'idx'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

/** One thing wrong with the input: which file (and row, for CSV) and what was expected. */
export type ImportProblem = z.infer<typeof importProblemSchema>;

/** How a dataset was split into training and validation samples. */
export type DatasetSplit = z.infer<typeof datasetSplitSchema>;

/** Scaling applied when the cached features are turned into float32 model inputs. */
export type Normalization =
  | { kind: 'scale'; scale: number } // images: value * scale (1/255)
  | { kind: 'standardize'; mean: number[]; std: number[] }; // CSV: per column, from the train split

/** How imageSize is reached: 'resize' stretches to fill; 'pad' centres on black (see ImportOptions.imageFit). */
export const IMAGE_FITS = ['resize', 'pad'] as const;
export type ImageFit = (typeof IMAGE_FITS)[number];

/**
 * What an import did to the images' size or channels, for the dataset view. Absent when they are
 * stored as the source holds them (and in datasets imported before this was recorded).
 */
export interface ImageTransform {
  /** How the size was changed; absent when only the channels were. */
  fit?: ImageFit;
  /** IDX and the sample: the source's [H, W, C]. Absent for image folders, whose images may differ in size. */
  sourceShape?: number[];
}

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
  /** What was done to the images' size or channels; absent when nothing was (an optional field: caches without it load as before). */
  imageTransform?: ImageTransform;
}

export interface ImportOptions {
  name?: string;
  /** CSV: label column by header name or 0-based index (as a string of digits). */
  labelColumn?: string;
  /** Image folders, IDX and the sample: target size [H, W]. Not for CSV. */
  imageSize?: [number, number];
  /**
   * How imageSize is reached (default 'resize'). 'resize' stretches each image to fill it.
   * 'pad' centres it on black: IDX and the sample are not scaled (imageSize must be at least
   * their size, the LeNet convention for MNIST at 32×32); image folders are scaled to fit inside
   * first, aspect ratio kept (sharp's fit 'contain').
   */
  imageFit?: ImageFit;
  /**
   * true for one grey channel, false for RGB. Image folders: default grey when the images are.
   * IDX and the sample: false copies a grey channel into three; true keeps grey images grey.
   */
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

/** How far an import has come. */
export type ImportProgress = z.infer<typeof importProgressSchema>;
