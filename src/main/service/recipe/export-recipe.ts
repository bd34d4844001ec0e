// exportRecipe over the service: finds the run or tuning, its dataset (and the run's tuning and
// trained model), decides the plan (recipe-plan.ts) and writes the folder (recipe-writer.ts).
import { existsSync } from 'node:fs';
import type { AutoBatchService } from '../service.js';
import type { EntryRunner } from '../backend-detect.js';
import { describeNoPython, MIN_TORCH } from '../python-discovery.js';
import { packageVersion } from '../app-version.js';
import { NotFoundError, UserError } from '../errors.js';
import type { TuningSessionRecord } from '../../store/index.js';
import { planForRun, planForTuning, type RecipePlan, type RecipeRequest } from './recipe-plan.js';
import { writeRecipe, type WrittenRecipe } from './recipe-writer.js';

export interface ExportRecipeRequest extends RecipeRequest {
  out: string;
}

/** The run's tuning, where it still exists. */
function tuningOfRun(service: AutoBatchService, id: number | null): TuningSessionRecord | undefined {
  if (id === null) return undefined;
  try {
    return service.getTuning(id);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** The source's record, a missing one named as the request's field. */
function found<T>(get: () => T, what: string, id: number): T {
  try {
    return get();
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(what, id, 'source.id');
    throw err;
  }
}

function planOf(service: AutoBatchService, req: RecipeRequest): { plan: RecipePlan; runModelDir: string | null } {
  if (req.source.kind === 'tuning') {
    const t = found(() => service.getTuning(req.source.id), 'tuning session', req.source.id);
    return { plan: planForTuning(t, service.getDataset(t.datasetId), req), runModelDir: null };
  }
  const run = found(() => service.getRun(req.source.id), 'run', req.source.id);
  const model = service.runFiles(run.id).model;
  const modelDir = model && existsSync(model.path) ? model.path : null;
  const plan = planForRun(run, tuningOfRun(service, run.tuningSessionId), service.getDataset(run.datasetId), req, modelDir !== null);
  return { plan, runModelDir: modelDir };
}

/** The Python with torch that converts trained weights: the torch-cpu rung's, as discovery finds it. */
async function torchPython(service: AutoBatchService): Promise<string> {
  const { finding } = await service.backends.torch('torch-cpu');
  if (!finding.executable)
    throw new UserError(
      `withWeights: converting the trained weights to PyTorch needs PyTorch here: ${describeNoPython(finding, MIN_TORCH['torch-cpu'])}`,
      'withWeights',
    );
  return finding.executable;
}

export async function exportRecipe(service: AutoBatchService, req: ExportRecipeRequest, entryRunner?: EntryRunner): Promise<WrittenRecipe> {
  const { plan, runModelDir } = planOf(service, req);
  return writeRecipe(
    plan,
    {
      dataset: service.getDataset(plan.datasetId),
      runModelDir,
      python: () => torchPython(service),
      ...(entryRunner ? { entryRunner } : {}),
      appVersion: packageVersion(),
    },
    req.out,
  );
}
