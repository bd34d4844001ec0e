// What a run or a search that starts from a trained model needs from the service, in one place
// so that startTraining and startTuning each call it from a few lines: the model the run is of,
// the StartFrom record at the run's rate, the check that the dataset can feed the model, and the
// stored copy — written only once everything else has been checked.
import { existsSync } from 'node:fs';
import type { Normalization } from '../../shared/dataset-types.js';
import { FINE_TUNE_RATE_FACTOR, startFromSchema, type StartFrom } from '../../shared/fine-tuning.js';
import type { TuningOrigin } from '../../shared/model-export.js';
import type { RunModel } from '../../shared/run-types.js';
import type { TuningRequest } from '../../shared/tuning-types.js';
import type { TuningSessionRecord } from '../store/index.js';
import { UserError } from './errors.js';
import { startFromRecord, startModelDir, startModelProblem, storeStartModel, type LoadedStartModel } from './start-model-source.js';

/** A start model about to be used by a run or a search. */
export interface StartPlan {
  /** The run's model: the start model's architecture when this app built it, else 'imported'. */
  kind: RunModel;
  /** The record stored with the run, for the run's (or the search's base) rate. */
  record(learningRate: number): StartFrom;
  /** Why the dataset cannot train from it; null when it can. */
  problem(dataset: { name: string; inputShape: readonly number[]; normalization: Normalization }): string | null;
  /** Stores the copy (unless it is there) and returns its folder. Call last: it writes. */
  store(): string;
}

/** A start model the request named, read and checked (nothing stored yet). */
export function planFromLoaded(loaded: LoadedStartModel, startModelsDir: string): StartPlan {
  return {
    kind: loaded.kind,
    record: (learningRate) => startFromRecord(loaded, learningRate),
    problem: (dataset) => startModelProblem(loaded, dataset),
    store: () => storeStartModel(loaded, startModelsDir),
  };
}

/**
 * The start model of a search whose recommendation a run trains with: its stored copy, the same
 * blocks unfrozen, and the same ratio of fine-tuning rate to rate as the search probed with.
 */
export function planFromTuning(t: TuningSessionRecord, startModelsDir: string): StartPlan | undefined {
  const start = t.request.startFrom;
  if (!start) return undefined;
  const dir = startModelDir(startModelsDir, start.digest);
  if (!existsSync(dir)) {
    throw new UserError(
      `the trained model tuning session ${t.id} started from (${start.source}) is no longer in the data folder (${dir}); start the run with startFrom (--from-model) instead`,
      'fromTuning',
    );
  }
  const ratio = fineTuneRateFactor(t.request);
  return {
    kind: t.model,
    record: (learningRate) => startFromSchema.parse({ ...start, fineTuneLearningRate: Math.min(10, ratio * learningRate) }),
    problem: (dataset) =>
      dataset.inputShape.length === 3 ? null : `dataset "${dataset.name}" has no images, but tuning session ${t.id} starts from a convolutional model`,
    store: () => dir,
  };
}

/** The unfrozen blocks' rate over the rate, as a search with a start model probes it. */
export function fineTuneRateFactor(request: Pick<TuningRequest, 'startFrom' | 'baseLearningRate'>): number {
  if (!request.startFrom || !(request.baseLearningRate > 0)) return FINE_TUNE_RATE_FACTOR;
  return request.startFrom.fineTuneLearningRate / request.baseLearningRate;
}

/** A request that names a model besides a start model must name the start model's. */
export function checkNamedModel(named: RunModel | undefined, plan: StartPlan | undefined, field: string): void {
  if (!plan || named === undefined || named === plan.kind) return;
  const what = plan.kind === 'imported' ? 'a model made elsewhere ("imported")' : `a ${plan.kind} model`;
  throw new UserError(`the run starts from ${what}, so its model is ${plan.kind}, not ${named}: leave the model out, or name ${plan.kind}`, field);
}

/** The search a run trains with, as the saved model's metadata tells it (madeWith.tuning). */
export function tuningOrigin(t: TuningSessionRecord): TuningOrigin | undefined {
  if (!t.report) return undefined;
  const r = t.report.recommendation;
  return {
    sessionId: t.id,
    mode: t.mode,
    recommendation: {
      batchSize: r.batchSize,
      learningRate: r.learningRate,
      warmupSteps: r.warmupSteps,
      optimizer: r.optimizer,
      memoryCeiling: r.memoryCeiling,
      expectedSamplesPerSecond: r.expectedSamplesPerSecond,
      noiseScale: r.noiseScale,
    },
  };
}
