// Runtime schemas of the dataset shapes the API carries: import problems, the train/validation
// split and import progress. They are the definitions: the types of dataset-types.ts
// (ImportProblem, DatasetSplit, ImportProgress) are inferred from them.
import { z } from 'zod';

const count = z.number().int().min(0);

/** One thing wrong with the input: which file (and row, for CSV) and what was expected (ImportProblem). */
export const importProblemSchema = z.strictObject({
  /** Path of the bad file, relative to the imported folder where there is one. */
  file: z.string(),
  /** 1-based row (CSV line) where the problem is, when it is about one row. */
  row: z.number().int().optional(),
  /** Plain words: what is wrong and what was expected. */
  reason: z.string(),
});

/** How a dataset was split into training and validation samples (DatasetSplit). */
export const datasetSplitSchema = z.strictObject({
  seed: z.number().int(),
  /** Share of each class kept for validation, e.g. 0.2. */
  validationFraction: z.number(),
  trainCount: count,
  validationCount: count,
});

/** How far an import has come (ImportProgress). */
export const importProgressSchema = z.strictObject({
  phase: z.enum(['scanning', 'decoding', 'writing']),
  done: count,
  total: count,
});
