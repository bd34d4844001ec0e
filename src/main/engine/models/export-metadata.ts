// What a trained model's model.json says about it (src/shared/model-export.ts, documented in the
// README): what it expects as input, what its outputs mean, its size, and how it was made.
import type * as tf from '@tensorflow/tfjs';
import type { DatasetManifest } from '../../../shared/dataset-types.js';
import { familyOf, MODEL_EXPORT_FORMAT, MODEL_EXPORT_VERSION, parameterCounts, type ModelExportMetadata } from '../../../shared/model-export.js';
import type { TrainJob } from '../../../shared/trainer-protocol.js';

export function exportMetadata(job: TrainJob, manifest: DatasetManifest, model: tf.LayersModel): ModelExportMetadata {
  // Counted from the weights as they are saved (names and shapes), whatever was frozen in training.
  const { trainable, total } = parameterCounts(model.weights.map((w) => ({ name: w.originalName, shape: w.shape.map((d) => d ?? 1) })));
  const image = manifest.inputShape.length === 3;
  return {
    format: MODEL_EXPORT_FORMAT,
    formatVersion: MODEL_EXPORT_VERSION,
    model: job.config.model,
    family: familyOf(job.config.model),
    classes: manifest.classes,
    inputShape: manifest.inputShape,
    normalization: manifest.normalization,
    pixelRange: image ? [0, 255] : null,
    trainableParameters: trainable,
    totalParameters: total,
    runId: job.runId,
    datasetName: manifest.name,
    createdAt: new Date().toISOString(),
    madeWith: { settings: job.config, tuning: job.tuning ?? null },
  };
}
