// The net a training run or a probe session trains: the named architecture from scratch, or one
// assembled from a start model.
import type { Normalization } from '../../../shared/dataset-types.js';
import type { RunModel } from '../../../shared/run-types.js';
import { startModelNet } from './start-model.js';
import { builtInNet, type TrainableNet } from './trainable-net.js';

export interface NetRequest {
  model: RunModel;
  inputShape: number[];
  classes: number;
  normalization: Normalization;
  seed: number;
  startModel?: { dir: string; unfreeze: number; fineTuneRateFactor: number };
}

export async function createNet(req: NetRequest): Promise<TrainableNet> {
  if (req.startModel) {
    const { inputShape, classes, normalization, seed } = req;
    return startModelNet({ ...req.startModel, inputShape, classes, normalization, seed });
  }
  if (req.model === 'imported') throw new Error('an imported model needs its start model');
  return builtInNet({ model: req.model, inputShape: req.inputShape, classes: req.classes, seed: req.seed });
}
