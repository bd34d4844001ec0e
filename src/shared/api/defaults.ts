// What every call does with a field left out, in one place. The service applies these; the
// CLI's help, the app's forms and the docs read them from here, so a default cannot differ
// between the front ends. (The user's settings — default backend and memory budget — come
// before these where they apply: see the startTraining and startTuning handlers.)
import type { BackendChoice, OptimizerKind, TrainConfig } from '../run-types.js';
import type { TuningMode } from '../tuning-types.js';

/** Epochs of a run, and the epochs an Auto-tune recommendation is planned for. */
export const DEFAULT_EPOCHS = 10;

/** A run's settings where neither the request nor a tuning session gives them. */
export const TRAIN_DEFAULTS = {
  batchSize: 64,
  epochs: DEFAULT_EPOCHS,
  learningRate: 1e-3,
  optimizer: 'adam',
  momentum: 0.9,
  warmupSteps: 0,
  backend: 'auto',
  seed: 1,
} as const satisfies Omit<TrainConfig, 'model'>;

/** An Auto-tune request's settings where the request does not give them. */
export const TUNING_DEFAULTS = {
  mode: 'quick' as TuningMode,
  optimizer: 'adam' as OptimizerKind,
  backend: 'auto' as BackendChoice,
  /** The batch whose learning rate is known to work (B₀)… */
  baseBatchSize: 32,
  /** …and that rate (η₀); with the range test, where its ramp is centred. */
  baseLearningRate: 1e-3,
  plannedEpochs: DEFAULT_EPOCHS,
  seed: 1,
  /** Find the base rate with a learning-rate range test. */
  searchLearningRate: true,
};

/** How much of a run or dataset a view returns when the request does not say. */
export const VIEW_DEFAULTS = {
  /** Points per metric series (down-sampled beyond). */
  maxPoints: 1000,
  /** Misclassified validation samples, most confident first. */
  misclassifiedLimit: 48,
  /** Sample images per class on a dataset's page. */
  previewsPerClass: 8,
};

/** Imports through the API leave bad inputs out (listing them) unless told otherwise. */
export const IMPORT_DEFAULTS = { skipBad: true };

/**
 * The `autobatch demo` run and the app's Train form start from these: a short first look (a
 * few epochs of the small CNN at a batch that trains well everywhere), not a default of the API.
 */
export const FIRST_RUN = { model: 'small', epochs: 3, batchSize: 64, learningRate: 1e-3 } as const;
