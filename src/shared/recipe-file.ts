// An exported distributed-training recipe (issue 21): the folder `autobatch recipes export`
// writes and the file at its root, recipe.json, that its script (python/recipe/train_ddp.py)
// reads. The metrics the script writes back are recipe-metrics.ts; the plan is scale-out.ts.
import { z } from 'zod';
import { AUGMENT_LEVELS } from './fine-tuning.js';
import { recipeDatasetSchema, recipeOriginSchema, recipeSettingsSchema } from './recipe-metrics.js';
import { SCALE_OUT_WORKERS } from './scale-out.js';
import { scaleOutPlanSchema } from './scale-out-schemas.js';

export const RECIPE_FORMAT = 'autobatch-recipe/1' as const;
export const RECIPE_FILE = 'recipe.json';
export const RECIPE_ENGINES = ['pytorch-ddp'] as const;
export type RecipeEngine = (typeof RECIPE_ENGINES)[number];
/** The worker counts a recipe can be planned for: the plan's rows (a script started with another row's count takes that row). */
export const RECIPE_WORKERS = SCALE_OUT_WORKERS;

const int = z.number().int();
const finite = z.number().finite();

/** recipe.json. */
export const recipeFileSchema = z.strictObject({
  format: z.literal(RECIPE_FORMAT),
  engine: z.enum(RECIPE_ENGINES),
  origin: recipeOriginSchema,
  /** The training for settings.workers workers: the plan's row for them, with the model, seed and epochs. */
  settings: recipeSettingsSchema,
  dataset: recipeDatasetSchema,
  /** What the app's engine trains with besides the plan: SGD's momentum, the augmentation, the validation chunk. */
  training: z.strictObject({
    momentum: finite.min(0).lt(1),
    augment: z.enum(AUGMENT_LEVELS),
    evalBatchSize: int.min(1),
    stepsPerEpoch: int.min(1),
  }),
  model: z.strictObject({
    /** model/: model.json + weights.bin in the tfjs layers format (the architecture, and the weights it starts from). */
    folder: z.literal('model'),
    /** With --with-weights: the run's trained weights as a PyTorch state_dict in model/ (training continues from them); else null. */
    weights: z.literal('weights.pt').nullable(),
    /** The run whose trained model model/ holds (with weights), else null: initial weights from the seed. */
    trainedByRun: int.min(1).nullable(),
  }),
  /** data/: the dataset in the app's cache format (meta.json, x.bin, y.bin, train.idx, val.idx; README.md describes it). */
  data: z.strictObject({ folder: z.literal('data') }),
  plan: scaleOutPlanSchema,
});
export type RecipeFile = z.infer<typeof recipeFileSchema>;

/**
 * `python -m torch.distributed.run …` for K workers on this one machine, up to the script: the
 * rendezvous on a port the system chooses (127.0.0.1:0), not --standalone's fixed 29400 of
 * PyTorch 1.x, which waits while another process holds it; and --redirects/--tee 1, without
 * which torchrun of PyTorch 1.13 under Python 3.11 fails to start (its Std enum lost the 0 member).
 */
export function oneNodeTorchrunArgs(workers: number): string[] {
  return [
    '-m',
    'torch.distributed.run',
    '--redirects',
    '1',
    '--tee',
    '1',
    '--nnodes',
    '1',
    '--rdzv_backend',
    'c10d',
    '--rdzv_endpoint',
    '127.0.0.1:0',
    '--nproc_per_node',
    String(workers),
  ];
}
