// Training runs and their metrics, as every part of the app sees them. Pure data.

export const MODEL_KINDS = ['small', 'large', 'mlp'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export const OPTIMIZERS = ['adam', 'sgd'] as const;
export type OptimizerKind = (typeof OPTIMIZERS)[number];

/** 'auto' walks the ladder of docs/architecture.md §4; the others ask for one backend and fail if it is unavailable. */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export const RUN_STATUSES = ['queued', 'running', 'completed', 'stopped', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface TrainConfig {
  model: ModelKind;
  batchSize: number;
  epochs: number;
  learningRate: number;
  optimizer: OptimizerKind;
  /** SGD momentum; ignored by Adam. */
  momentum: number;
  /** Steps of linear learning-rate warm-up from ~0 to learningRate. */
  warmupSteps: number;
  backend: BackendChoice;
  seed: number;
  /** Validate this many times per epoch (default 1, at its end): finer validation curves. */
  validationsPerEpoch?: number;
}

/** Why a backend of the ladder was not used. */
export interface BackendSkip {
  backend: string;
  reason: string;
}

export interface BackendReport {
  /** tfjs backend name actually in use: 'tensorflow', 'webgpu', 'wasm', 'cpu'. */
  name: string;
  /** Human-readable device, e.g. 'NVIDIA H100 (Vulkan)', 'CPU, WebAssembly SIMD, 2 threads'. */
  device: string;
  /** Each higher rung that was skipped, and why. */
  skipped: BackendSkip[];
}

/** One optimisation step, as the trainer reports it. */
export interface StepMetrics {
  step: number; // global step, 1-based
  epoch: number; // 1-based
  /** Seconds since the run started training. */
  time: number;
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
  stepMs: number;
  memoryBytes: number;
  learningRate: number;
}

/** Validation at the end of an epoch. */
export interface EpochMetrics {
  epoch: number;
  step: number;
  time: number;
  valLoss: number;
  valAccuracy: number;
  trainLoss: number;
  trainAccuracy: number;
}

/** Metric names as stored, one row each per (run, step). */
export const STEP_METRIC_NAMES = ['loss', 'accuracy', 'samples_per_s', 'step_ms', 'memory_bytes', 'lr'] as const;
export const EPOCH_METRIC_NAMES = ['val_loss', 'val_accuracy', 'epoch_loss', 'epoch_accuracy'] as const;
