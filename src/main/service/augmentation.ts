// The augmentation a run or a search trains with (shared/fine-tuning.ts), resolved once when it
// is asked for, so that what is stored is what trains: the level the request names, else the one
// it inherits (a run trained with a search's recommendation takes the search's), else the
// dataset's default by its kind. A level that cannot apply is refused before anything is stored.
import { augmentationProblem, defaultAugmentation, type AugmentLevel } from '../../shared/fine-tuning.js';
import type { DatasetRecord } from '../store/index.js';
import { UserError } from './errors.js';

/** The level to store; a UserError naming `field` (the request field that holds it) when it cannot apply to the dataset. */
export function resolveAugmentation(dataset: DatasetRecord, field: string, asked: AugmentLevel | undefined, inherited?: AugmentLevel): AugmentLevel {
  const level = asked ?? inherited ?? defaultAugmentation(dataset.manifest.kind);
  const problem = augmentationProblem(level, dataset.manifest.inputShape, dataset.name);
  if (problem) throw new UserError(problem, field);
  return level;
}
