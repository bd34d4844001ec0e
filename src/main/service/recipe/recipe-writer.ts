// Writes an exported recipe's folder (issue 21): the script and the engine's model code from the
// app's python/ folder (copied unchanged), the dataset, the model (built by the torch prep entry
// from the seed, as a torch run's net is — no architecture written twice — or the run's trained
// model with its weights converted to PyTorch's layout by the recipe's own code), recipe.json and
// README.md. The folder is written beside the target and renamed into place, so a failed export
// leaves nothing half-written; an earlier recipe there is replaced, anything else is refused.
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatasetRecord } from '../../store/index.js';
import { RECIPE_FILE, RECIPE_FORMAT, recipeFileSchema, type RecipeFile } from '../../../shared/recipe-file.js';
import type { RecipeSettings } from '../../../shared/recipe-metrics.js';
import { describeSchemaError } from '../../../shared/schema-errors.js';
import { ConflictError, UserError } from '../errors.js';
import type { EntryRunner } from '../backend-detect.js';
import { prepareTorchJob } from '../python-trainer.js';
import { pythonPackageRoot } from '../python-discovery.js';
import { recipeReadme } from './recipe-readme.js';
import type { RecipePlan } from './recipe-plan.js';

/** The engine's files the recipe's script imports (keras_model and what it imports, dataset, augment): copied unchanged. */
export const ENGINE_FILES = ['__init__.py', 'keras_model.py', 'convert.py', 'model_files.py', 'dataset.py', 'augment.py', 'rng.py'] as const;
export const SCRIPT_FILES = ['train_ddp.py', 'convert_weights.py'] as const;
const DATA_FILES = ['x.bin', 'y.bin', 'train.idx', 'val.idx'] as const;
const MODEL_FILES = ['model.json', 'weights.bin'] as const;
const CONVERT_TIMEOUT_MS = 180_000;

export interface RecipeWriteDeps {
  dataset: DatasetRecord;
  /** The trained model's folder of plan.weightsOfRun (model.json + weights.bin). */
  runModelDir: string | null;
  /** The Python with torch that converts trained weights (asked only for them); throws the reason there is none. */
  python: () => Promise<string>;
  entryRunner?: EntryRunner;
  appVersion: string;
  /** The folder holding autobatch_trainer/ and recipe/ (default: the app's python/). */
  pythonRoot?: string;
}

export interface WrittenRecipe {
  folder: string;
  /** Every file, relative to the folder, '/'-separated, sorted. */
  files: string[];
  settings: RecipeSettings;
  recipe: RecipeFile;
}

/** Whether `dir` holds a recipe this app wrote (its recipe.json names the format). */
function isRecipeFolder(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(path.join(dir, RECIPE_FILE), 'utf8')) as { format?: unknown }).format === RECIPE_FORMAT;
  } catch {
    return false;
  }
}

/** Refuses a target that is a file, or a non-empty folder that is not an earlier recipe. */
export function checkTarget(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new ConflictError(`${out} is a file; give a folder to create (or an earlier recipe's folder to replace)`, 'out');
  if (readdirSync(out).length > 0 && !isRecipeFolder(out))
    throw new ConflictError(`${out} is a folder with other files in it; give a new or empty folder, or an earlier recipe's folder to replace`, 'out');
}

function listFiles(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel))
    .sort()
    .flatMap((name) => {
      const r = rel ? `${rel}/${name}` : name;
      return statSync(path.join(dir, r)).isDirectory() ? listFiles(dir, r) : [r];
    });
}

function copyCode(root: string, dir: string): void {
  for (const f of SCRIPT_FILES) copyFileSync(path.join(root, 'recipe', f), path.join(dir, f));
  mkdirSync(path.join(dir, 'autobatch_trainer'));
  for (const f of ENGINE_FILES) copyFileSync(path.join(root, 'autobatch_trainer', f), path.join(dir, 'autobatch_trainer', f));
}

/** data/: the dataset cache's arrays as they are, and its meta.json without the preview list (the PNGs are not copied) or the source path. */
function copyData(dataset: DatasetRecord, dir: string): void {
  const data = path.join(dir, 'data');
  mkdirSync(data);
  for (const f of DATA_FILES) copyFileSync(path.join(dataset.cacheDir, f), path.join(data, f));
  writeFileSync(path.join(data, 'meta.json'), JSON.stringify({ ...dataset.manifest, source: dataset.name, previews: [] }, null, 1));
}

function runPython(python: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // No bytecode written into the recipe; the recipe's own copy of the engine, first on sys.path, is what converts.
    const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
    execFile(python, args, { env, timeout: CONVERT_TIMEOUT_MS, windowsHide: true, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** model/weights.pt from the run's trained model, converted by the recipe's convert_weights.py; its parameter count checked. */
async function convertWeights(deps: RecipeWriteDeps, dir: string, parameters: number): Promise<void> {
  const python = await deps.python();
  const out = path.join(dir, 'model', 'weights.pt');
  const r = await runPython(python, [path.join(dir, 'convert_weights.py'), path.join(dir, 'model'), out]);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let answer: { ok?: boolean; parameters?: number } = {};
  try {
    answer = JSON.parse(line) as typeof answer;
  } catch {
    // reported below with stderr
  }
  if (r.code !== 0 || !answer.ok) {
    const tail = r.stderr.trim().split('\n').pop() ?? '';
    throw new Error(`converting the trained weights to PyTorch failed (${python}, exit ${r.code ?? 'by signal or timeout'})${tail ? `: ${tail}` : ''}`);
  }
  if (answer.parameters !== parameters)
    throw new Error(
      `the converted model has ${answer.parameters} trainable parameters, the app's ${parameters}: not converting a model of another architecture`,
    );
}

/** model/: the run's trained model (with weights), else the net the torch prep entry builds from the seed. */
async function writeModel(plan: RecipePlan, deps: RecipeWriteDeps, dir: string): Promise<void> {
  const modelDir = path.join(dir, 'model');
  mkdirSync(modelDir);
  let from = deps.runModelDir;
  let work: string | undefined;
  if (plan.weightsOfRun === null) {
    work = mkdtempSync(path.join(os.tmpdir(), 'autobatch-recipe-prep-'));
    const session = {
      kind: 'probe-session' as const,
      datasetDir: deps.dataset.cacheDir,
      model: plan.model,
      optimizer: plan.settings.optimizer,
      backend: 'torch-cpu' as const,
      seed: plan.settings.seed,
    };
    const prep = await prepareTorchJob(session, work, deps.entryRunner);
    if (!prep.ok) {
      rmSync(work, { recursive: true, force: true });
      throw new Error(`building the model failed: ${prep.message}`);
    }
    from = prep.prepared.modelDir;
  }
  try {
    if (!from) throw new Error(`run ${plan.weightsOfRun} has no trained model folder`);
    for (const f of MODEL_FILES) copyFileSync(path.join(from, f), path.join(modelDir, f));
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
  if (plan.weightsOfRun !== null) await convertWeights(deps, dir, plan.settings.parameters);
}

function recipeFileOf(plan: RecipePlan, deps: RecipeWriteDeps): RecipeFile {
  const m = deps.dataset.manifest;
  const doc = {
    format: RECIPE_FORMAT,
    engine: 'pytorch-ddp',
    origin: { kind: plan.source.kind, id: plan.source.id, appVersion: deps.appVersion, exportedAt: new Date().toISOString() },
    settings: plan.settings,
    dataset: {
      name: deps.dataset.name,
      contentHash: deps.dataset.contentHash,
      trainCount: m.split.trainCount,
      validationCount: m.split.validationCount,
      classes: m.classes,
    },
    training: plan.training,
    model: { folder: 'model', weights: plan.weightsOfRun !== null ? 'weights.pt' : null, trainedByRun: plan.weightsOfRun },
    data: { folder: 'data' },
    plan: plan.plan,
  };
  // Checked as the script will read it: a recipe that does not validate is a bug, never written.
  const parsed = recipeFileSchema.safeParse(doc);
  if (!parsed.success) throw new Error(`the recipe does not validate: ${describeSchemaError(parsed.error)}`);
  return parsed.data;
}

/** Moves the written folder into place, replacing an earlier recipe there. */
function putInPlace(tmp: string, out: string): void {
  if (!existsSync(out)) return renameSync(tmp, out);
  const old = `${out}.old-${process.pid}-${Date.now()}`;
  renameSync(out, old);
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
}

export async function writeRecipe(plan: RecipePlan, deps: RecipeWriteDeps, out: string): Promise<WrittenRecipe> {
  const folder = path.resolve(out);
  checkTarget(folder);
  const parent = path.dirname(folder);
  if (!existsSync(parent)) throw new UserError(`the folder ${parent} that would hold the recipe does not exist`, 'out');
  const recipe = recipeFileOf(plan, deps);
  const tmp = mkdtempSync(path.join(parent, `.${path.basename(folder)}.tmp-`));
  try {
    chmodSync(tmp, 0o755); // mkdtemp's folder is private; the recipe is meant to be copied and shared
    copyCode(deps.pythonRoot ?? pythonPackageRoot(), tmp);
    copyData(deps.dataset, tmp);
    await writeModel(plan, deps, tmp);
    writeFileSync(path.join(tmp, RECIPE_FILE), `${JSON.stringify(recipe, null, 2)}\n`);
    writeFileSync(path.join(tmp, 'README.md'), recipeReadme(recipe));
    putInPlace(tmp, folder);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return { folder, files: listFiles(folder), settings: recipe.settings, recipe };
}
