// What an exported recipe trains with (issue 21), decided from a stored run or tuning: the
// scale-out plan (shared/scale-out.ts) and its row for the asked workers, the model, the seed and
// the engine's other settings — or the reason the source cannot make a recipe. No files here: the
// writer (recipe-writer.ts) turns this into the folder.
import type { DatasetRecord, RunRecord, TuningSessionRecord } from '../../store/index.js';
import { TRAIN_DEFAULTS } from '../../../shared/api/defaults.js';
import type { AugmentLevel } from '../../../shared/fine-tuning.js';
import { minimumBatchForRun, trainableParameters } from '../../../shared/model-families.js';
import type { RecipeFile } from '../../../shared/recipe-file.js';
import { RECIPE_WORKERS } from '../../../shared/recipe-file.js';
import type { RecipeSettings } from '../../../shared/recipe-metrics.js';
import type { ModelKind, RunModel } from '../../../shared/run-types.js';
import { planScaleOut, scaleOutInputFromReport, type ScaleOutInput, type ScaleOutPlan } from '../../../shared/scale-out.js';
import { ConflictError, UserError } from '../errors.js';

export type RecipeSource = { kind: 'run'; id: number } | { kind: 'tuning'; id: number };

/** Everything the recipe needs to know, before any file is written. */
export interface RecipePlan {
  source: RecipeSource;
  datasetId: number;
  model: ModelKind;
  settings: RecipeSettings;
  plan: ScaleOutPlan;
  training: RecipeFile['training'];
  /** The run whose trained model the recipe continues from (withWeights), else null. */
  weightsOfRun: number | null;
}

export interface RecipeRequest {
  source: RecipeSource;
  workers: number;
  withWeights: boolean;
}

/** The refusals, worded once (the API, the CLI and the UI print them). */
function outsideModelReason(what: string, startedFrom: string): string {
  return `${what} starts from a trained model (${startedFrom}), not from one of the app's model families: a recipe rebuilds the architecture in PyTorch from the app's own model code, which a model from elsewhere is not`;
}

function checkedModel(model: RunModel, startFrom: { source: string } | undefined, what: string, field: string): ModelKind {
  if (startFrom) throw new UserError(outsideModelReason(what, startFrom.source), field);
  if (model === 'imported') throw new UserError(outsideModelReason(what, 'an imported model'), field);
  return model;
}

function checkWorkers(workers: number): void {
  if (!(RECIPE_WORKERS as readonly number[]).includes(workers))
    throw new UserError(`workers must be one of ${RECIPE_WORKERS.join(', ')} (the scale-out plan's rows), got ${workers}`, 'workers');
}

function parametersOf(model: ModelKind, dataset: DatasetRecord): number {
  try {
    return trainableParameters(model, dataset.manifest.inputShape, dataset.manifest.classes.length);
  } catch (err) {
    throw new UserError(`model ${model} does not fit dataset "${dataset.name}": ${(err as Error).message}`, 'source');
  }
}

function settingsOf(plan: ScaleOutPlan, workers: number, model: ModelKind, parameters: number, seed: number): RecipeSettings {
  const row = plan.rows.find((r) => r.workers === workers)!;
  return {
    model,
    parameters,
    optimizer: plan.base.optimizer,
    workers,
    perWorkerBatch: row.perWorkerBatch,
    microBatch: row.microBatch,
    globalBatch: row.globalBatch,
    learningRate: row.learningRate,
    warmupSteps: row.warmupSteps,
    epochs: plan.epochs,
    seed,
  };
}

/** The plan for a tuning: its report's recommendation and measurements, its planned epochs. */
export function planForTuning(t: TuningSessionRecord, dataset: DatasetRecord, req: RecipeRequest): RecipePlan {
  checkWorkers(req.workers);
  const model = checkedModel(t.model, t.request.startFrom, `tuning ${t.id}`, 'source');
  if (t.status !== 'completed' || !t.report)
    throw new ConflictError(`tuning ${t.id} is ${t.status}: only a completed search has a recommendation to plan from`, 'source');
  if (req.withWeights)
    throw new UserError(
      `withWeights: tuning ${t.id} trained no model (a search's probes keep no weights); export a run trained with its recommendation instead`,
      'withWeights',
    );
  const input = scaleOutInputFromReport(t.report, {
    trainCount: dataset.manifest.split.trainCount,
    epochs: t.request.plannedEpochs,
    minimumBatch: minimumBatchForRun(model, undefined),
  });
  const plan = planScaleOut(input);
  const rec = t.report.recommendation;
  return {
    source: req.source,
    datasetId: t.datasetId,
    model,
    settings: settingsOf(plan, req.workers, model, parametersOf(model, dataset), t.request.seed),
    plan,
    training: trainingOf(plan, req.workers, TRAIN_DEFAULTS.momentum, t.request.augment ?? 'none', rec.evalBatchSize ?? rec.batchSize),
    weightsOfRun: null,
  };
}

function trainingOf(plan: ScaleOutPlan, workers: number, momentum: number, augment: AugmentLevel, evalBatchSize: number): RecipeFile['training'] {
  const row = plan.rows.find((r) => r.workers === workers)!;
  return { momentum, augment, evalBatchSize, stepsPerEpoch: row.stepsPerEpoch };
}

/**
 * A run's plan input: its tuning's measurements when it trained with that tuning's recommendation
 * (the same batch, rate and optimizer), else its own setting with nothing measured.
 */
export function runPlanInput(run: RunRecord, tuning: TuningSessionRecord | undefined, trainCount: number, model: ModelKind): ScaleOutInput {
  const c = run.config;
  const minimumBatch = minimumBatchForRun(model, undefined);
  const rec = tuning?.status === 'completed' ? tuning.report?.recommendation : undefined;
  if (tuning?.report && rec && rec.batchSize === c.batchSize && rec.learningRate === c.learningRate && rec.optimizer === c.optimizer)
    return scaleOutInputFromReport(tuning.report, { trainCount, epochs: c.epochs, minimumBatch });
  return {
    base: { batchSize: c.batchSize, learningRate: c.learningRate, optimizer: c.optimizer, warmupSteps: c.warmupSteps },
    noiseScale: null,
    noiseScaleSource: null,
    timeModel: null,
    memoryCeiling: c.microBatchSize ?? c.batchSize,
    minimumBatch,
    trainCount,
    epochs: c.epochs,
  };
}

/** The plan for a run; with withWeights, the run must have its trained model (`hasModel`). */
export function planForRun(run: RunRecord, tuning: TuningSessionRecord | undefined, dataset: DatasetRecord, req: RecipeRequest, hasModel: boolean): RecipePlan {
  checkWorkers(req.workers);
  const model = checkedModel(run.model, run.config.startFrom, `run ${run.id}`, 'source');
  if (req.withWeights && !hasModel)
    throw new ConflictError(`withWeights: run ${run.id} has no trained model (it is ${run.status}; models are saved when a run completes)`, 'withWeights');
  const plan = planScaleOut(runPlanInput(run, tuning, dataset.manifest.split.trainCount, model));
  const c = run.config;
  return {
    source: req.source,
    datasetId: run.datasetId,
    model,
    settings: settingsOf(plan, req.workers, model, parametersOf(model, dataset), c.seed),
    plan,
    training: trainingOf(plan, req.workers, c.momentum, c.augment ?? 'none', c.evalBatchSize ?? c.batchSize),
    weightsOfRun: req.withWeights ? run.id : null,
  };
}
