// `autobatch recipes export run:<id>|tuning:<id> --workers K --out DIR`: a runnable PyTorch DDP
// recipe of a run or a completed tuning (the API's exportRecipe; README "Take the recipe to a
// cluster").
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { RECIPE_ENGINES, RECIPE_WORKERS } from '../../../shared/recipe-file.js';
import type { CliContext } from '../main.js';
import { printJson, printLine } from '../output.js';
import { oneOf } from '../parse-flags.js';

type Source = { kind: 'run' | 'tuning'; id: number };

/** "run:12" or "tuning:3": the kind is always named (a bare id would be ambiguous). */
export function recipeSource(value: string): Source {
  const m = /^\s*(run|tuning):(\d+)\s*$/.exec(value);
  const id = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(id) || id < 1) throw new InvalidArgumentError(`expected run:<id> or tuning:<id> (e.g. run:12, tuning:3), got "${value}"`);
  return { kind: m[1] as Source['kind'], id };
}

function workersFlag(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !(RECIPE_WORKERS as readonly number[]).includes(n))
    throw new InvalidArgumentError(`expected one of ${RECIPE_WORKERS.join(', ')} (the scale-out plan's rows), got "${value}"`);
  return n;
}

export function registerRecipeCommands(program: Command, ctx: CliContext): void {
  const recipes = program.command('recipes').description('runnable recipes to train elsewhere (PyTorch DDP)');
  recipes
    .command('export')
    .description("write a run's or a completed tuning's training as a PyTorch DDP recipe: script, model, dataset, plan and torchrun commands")
    .argument('<source>', 'run:<id> or tuning:<id>', recipeSource)
    .requiredOption('--workers <k>', `workers in all: ${RECIPE_WORKERS.join(', ')} (the plan's row)`, workersFlag)
    .requiredOption('--out <dir>', 'folder to create (an earlier recipe there is replaced)')
    .option('--engine <engine>', `${RECIPE_ENGINES.join(', ')} (default)`, oneOf(RECIPE_ENGINES))
    .option('--with-weights', "a run's trained weights converted to PyTorch's layout: training continues from them (needs PyTorch here)")
    .option('--json', 'print one JSON document (the API’s answer)')
    .action(async (source: Source, opts: { workers: number; out: string; engine?: 'pytorch-ddp'; withWeights?: boolean }, cmd: Command) => {
      const result = await ctx.api().exportRecipe({
        source,
        workers: opts.workers,
        out: path.resolve(opts.out),
        ...(opts.engine ? { engine: opts.engine } : {}),
        ...(opts.withWeights ? { withWeights: true } : {}),
      });
      if (ctx.json(cmd)) return printJson(result);
      const s = result.settings;
      printLine(`Recipe of ${source.kind} ${source.id} written to ${result.folder} (${result.files.length} files)`);
      printLine(
        `  ${s.model}, ${s.parameters} trainable parameters; ${s.workers} worker${s.workers > 1 ? 's' : ''} × ${s.perWorkerBatch} = global batch ${s.globalBatch}, rate ${s.learningRate.toPrecision(3)}, warm-up ${s.warmupSteps} steps, ${s.epochs} epochs${result.withWeights ? '; continues from the trained weights' : ''}`,
      );
      printLine(
        `  Run it: cd ${result.folder} && torchrun --standalone --nproc_per_node ${s.workers} train_ddp.py --out out   (README.md: several nodes, Slurm)`,
      );
    });
}
