// Training runs and their metrics, as every part of the app sees them. Pure data.
import type { z } from 'zod';
import type { backendReportSchema, backendSkipSchema, epochMetricsSchema, stepMetricsSchema, trainConfigSchema } from './schemas.js';

export const MODEL_KINDS = [
  'small',
  'large',
  'mlp',
  'resnet-8',
  'resnet-14',
  'resnet-20',
  'resnet-18',
  'mobilenet-0.35',
  'mobilenet-0.5',
  'mobilenet-1.0',
] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/**
 * What a run or a tuning names as its model: an architecture of MODEL_KINDS, or 'imported' for
 * one started from a trained model that this app did not make (config.startFrom says which).
 */
export const RUN_MODELS = [...MODEL_KINDS, 'imported'] as const;
export type RunModel = (typeof RUN_MODELS)[number];

export const OPTIMIZERS = ['adam', 'sgd'] as const;
export type OptimizerKind = (typeof OPTIMIZERS)[number];

/**
 * 'auto' walks the ladder of docs/architecture.md §4; the others ask for one backend and fail if
 * it is unavailable. The torch-* choices train with the user's own PyTorch (the Python trainer,
 * python/autobatch_trainer); the rest with tfjs, the built-in engine.
 */
export const BACKEND_CHOICES = ['auto', 'torch-cuda', 'torch-mps', 'tensorflow', 'webgpu', 'torch-cpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
/** A choice that names one engine and its device (what `auto` resolves to). */
export type ConcreteBackend = Exclude<BackendChoice, 'auto'>;

export const TORCH_BACKENDS = ['torch-cuda', 'torch-mps', 'torch-cpu'] as const;
export type TorchBackend = (typeof TORCH_BACKENDS)[number];
export const TFJS_BACKENDS = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type TfjsBackend = (typeof TFJS_BACKENDS)[number];

/** The two engines: tfjs (built in, zero-install) and torch (the user's PyTorch, where installed). */
export type Engine = 'tfjs' | 'torch';

export function isTorchBackend(choice: BackendChoice): choice is TorchBackend {
  return (TORCH_BACKENDS as readonly string[]).includes(choice);
}

export function engineOf(choice: ConcreteBackend): Engine {
  return isTorchBackend(choice) ? 'torch' : 'tfjs';
}

export const RUN_STATUSES = ['queued', 'running', 'completed', 'stopped', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

// The shapes below are defined by their zod schemas in schemas.ts (field docs are there); the
// types are inferred from them, so a type and its runtime check cannot drift apart.

export type TrainConfig = z.infer<typeof trainConfigSchema>;

/** Why a backend of the ladder was not used. */
export type BackendSkip = z.infer<typeof backendSkipSchema>;

export type BackendReport = z.infer<typeof backendReportSchema>;

/** One optimisation step, as the trainer reports it. */
export type StepMetrics = z.infer<typeof stepMetricsSchema>;

/** Validation at the end of an epoch. */
export type EpochMetrics = z.infer<typeof epochMetricsSchema>;

/** Metric names as stored, one row each per (run, step). */
export const STEP_METRIC_NAMES = ['loss', 'accuracy', 'samples_per_s', 'step_ms', 'memory_bytes', 'lr'] as const;
export const EPOCH_METRIC_NAMES = ['val_loss', 'val_accuracy', 'epoch_loss', 'epoch_accuracy'] as const;
