// A model assembled from a trained one: its backbone (input adapted to the dataset), a new
// classifier for the dataset's classes, the backbone frozen but for its last `unfreeze` blocks.
import type { Normalization } from '../../../shared/dataset-types.js';
import type { TrainableNet } from './trainable-net.js';

export interface StartModelSpec {
  /** The stored copy's folder (model.json and its weights). */
  dir: string;
  unfreeze: number;
  /** The unfrozen blocks' rate over the run's. */
  fineTuneRateFactor: number;
  /** The dataset the run trains on. */
  inputShape: number[];
  classes: number;
  normalization: Normalization;
  seed: number;
}

export function startModelNet(_spec: StartModelSpec): Promise<TrainableNet> {
  return Promise.reject(new Error('starting from a trained model is not available yet'));
}
