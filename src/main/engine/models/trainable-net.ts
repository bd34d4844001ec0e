// A model as a training step sees it: an optional frozen part, run in inference mode outside the
// gradient tape (so its activations are freed as soon as it has run, and a frozen backbone's
// smaller memory per sample shows in the memory probes), then the trained part, whose variables
// may train at different rates (a fine-tuned backbone slower than its new classifier).
import * as tf from '@tensorflow/tfjs';
import type { ModelKind } from '../../../shared/run-types.js';
import { buildModel } from './build-model.js';

export interface RateGroup {
  variables: tf.Variable[];
  /** This group trains at the run's rate times this (1 for the classifier). */
  rateFactor: number;
}

export interface TrainableNet {
  /** The whole model: what is evaluated and saved. */
  readonly model: tf.LayersModel;
  /** Every trained variable, in rateGroups order. */
  readonly trainable: tf.Variable[];
  readonly rateGroups: RateGroup[];
  /** Inputs → what the trained part takes. Identity when nothing is frozen. Call outside tf.variableGrads. */
  frozen(x: tf.Tensor): tf.Tensor;
  /** The trained part in training mode: logits from frozen(x). */
  trained(features: tf.Tensor): tf.Tensor2D;
  /** Frees the parts the whole model does not own (the model itself is disposed by whoever holds it). */
  disposeParts(): void;
}

/** A whole model trained at one rate: the built-in architectures from scratch. */
export function wholeModelNet(model: tf.LayersModel): TrainableNet {
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return {
    model,
    trainable,
    rateGroups: [{ variables: trainable, rateFactor: 1 }],
    frozen: (x) => x,
    trained: (x) => model.apply(x, { training: true }) as tf.Tensor2D,
    disposeParts: () => undefined,
  };
}

export interface NetSpec {
  model: ModelKind;
  inputShape: number[];
  classes: number;
  seed: number;
}

export function builtInNet(spec: NetSpec): TrainableNet {
  return wholeModelNet(buildModel(spec.model, { inputShape: spec.inputShape, classes: spec.classes }, spec.seed));
}
