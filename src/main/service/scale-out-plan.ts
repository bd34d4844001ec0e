// The scale-out plan of a tuning or a run, for the API (scaleOutPlan, TuningDetail.scaleOutPlan):
// what the plan is made from, read from the stored records. The plan itself is shared/scale-out.ts.
import type { ResultOf, ValidParamsOf } from '../../shared/api/index.js';
import { minimumBatchForRun } from '../../shared/model-families.js';
import { planScaleOut, scaleOutInputFromReport, type ScaleOutInput, type ScaleOutPlan } from '../../shared/scale-out.js';
import { microBatchOf } from '../../shared/accumulation.js';
import type { RunRecord, TuningSessionRecord } from '../store/index.js';
import { ConflictError, NotFoundError } from './errors.js';
import type { AutoBatchService } from './service.js';

/** The plan's input from a completed tuning; null while it has no report. */
export function tuningPlanInput(t: TuningSessionRecord, trainCount: number): ScaleOutInput | null {
  if (t.status !== 'completed' || !t.report) return null;
  return scaleOutInputFromReport(t.report, {
    trainCount,
    epochs: t.request.plannedEpochs,
    minimumBatch: minimumBatchForRun(t.request.model, t.request.startFrom),
  });
}

/** A completed tuning's plan (null before it completed): what TuningDetail carries. */
export function tuningPlan(t: TuningSessionRecord, trainCount: number): ScaleOutPlan | null {
  const input = tuningPlanInput(t, trainCount);
  return input ? planScaleOut(input) : null;
}

/** Whether a run's tuning can stand for it: completed, with a report, for the model the run trains. */
export function tuningServesRun(run: RunRecord, tuning: TuningSessionRecord | undefined): tuning is TuningSessionRecord {
  return tuning !== undefined && tuning.status === 'completed' && tuning.report !== null && tuning.request.model === run.config.model;
}

/**
 * A run's plan: its own setting scaled, with its tuning's measurements (noise scale, time model,
 * memory ceiling) where it has a tuning of the same model; otherwise with none, its memory ceiling
 * taken as the batch it trained in one pass. The first assumption says which.
 */
export function runPlan(run: RunRecord, tuning: TuningSessionRecord | undefined, trainCount: number): ScaleOutPlan {
  const c = run.config;
  const base = { batchSize: c.batchSize, learningRate: c.learningRate, optimizer: c.optimizer, warmupSteps: c.warmupSteps };
  const minimumBatch = minimumBatchForRun(c.model, c.startFrom);
  const setting = `batch ${c.batchSize}, rate ${Number(c.learningRate.toPrecision(3))} (${c.optimizer})`;
  if (tuningServesRun(run, tuning)) {
    const measured = scaleOutInputFromReport(tuning.report!, { trainCount, epochs: c.epochs, minimumBatch });
    const plan = planScaleOut({ ...measured, base });
    const source = `The one-worker setting is run ${run.id}'s own (${setting}, ${c.epochs} epochs); the measurements are tuning ${tuning.id}'s.`;
    return { ...plan, assumptions: [source, ...plan.assumptions] };
  }
  const plan = planScaleOut({
    base,
    noiseScale: null,
    noiseScaleSource: null,
    timeModel: null,
    memoryCeiling: microBatchOf(c),
    minimumBatch,
    trainCount,
    epochs: c.epochs,
  });
  const why = noTuningWhy(run, tuning);
  const source = `Run ${run.id}'s own setting (${setting}, ${c.epochs} epochs) is the one-worker base, and ${why}: nothing was measured, so the memory ceiling is taken as the batch it trained in one pass (${microBatchOf(c)}).`;
  return { ...plan, assumptions: [source, ...plan.assumptions] };
}

/** Why a run's plan has no measurements, in words. */
function noTuningWhy(run: RunRecord, tuning: TuningSessionRecord | undefined): string {
  if (run.tuningSessionId === null) return 'it was not trained from a tuning';
  if (!tuning) return `its tuning (${run.tuningSessionId}) is no longer stored`;
  if (tuning.request.model !== run.config.model) return `its tuning (${tuning.id}) measured another model (${tuning.request.model})`;
  return `its tuning (${tuning.id}) has no report (it is ${tuning.status})`;
}

/** A lookup whose 'not found' names the request's `id` field. */
function byId<T>(what: string, id: number, get: () => T): T {
  try {
    return get();
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(what, id, 'id');
    throw err;
  }
}

function trainCountOf(service: AutoBatchService, datasetId: number): number {
  return service.getDataset(datasetId).manifest.split.trainCount;
}

/** The scaleOutPlan call: a tuning's plan (it must have completed) or a run's. */
export function scaleOutAnswer(service: AutoBatchService, p: ValidParamsOf<'scaleOutPlan'>): ResultOf<'scaleOutPlan'> {
  if (p.kind === 'tuning') {
    const t = byId('tuning session', p.id, () => service.getTuning(p.id));
    const plan = tuningPlan(t, trainCountOf(service, t.datasetId));
    if (!plan) throw new ConflictError(`tuning session ${t.id} is ${t.status}: only a completed tuning has a scale-out plan`, 'id');
    return { plan, source: { kind: 'tuning', id: t.id }, tuningId: t.id, model: t.model, datasetId: t.datasetId };
  }
  const run = byId('run', p.id, () => service.getRun(p.id));
  let tuning: TuningSessionRecord | undefined;
  try {
    tuning = run.tuningSessionId === null ? undefined : service.getTuning(run.tuningSessionId);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const plan = runPlan(run, tuning, trainCountOf(service, run.datasetId));
  return { plan, source: { kind: 'run', id: run.id }, tuningId: tuningServesRun(run, tuning) ? tuning.id : null, model: run.model, datasetId: run.datasetId };
}
