// The scale-out plan on the command line: its table (in `tunings show`, `tunings plan`, `runs plan`)
// and the `plan` subcommands, which print the API's scaleOutPlan answer (as is with --json).
import type { Command } from 'commander';
import type { ScaleOutAnswer } from '../../../shared/api/index.js';
import type { ScaleOutPlan } from '../../../shared/scale-out.js';
import type { CliContext } from '../main.js';
import { printJson, printLine, tableLines } from '../output.js';
import { runId } from '../parse-flags.js';

const NOISE_SOURCE: Record<NonNullable<ScaleOutPlan['noiseScaleSource']>, string> = {
  late: 'late, re-measured',
  forecast: 'forecast',
  early: 'early',
};

/** "64", or "64 (2 × 32)" when each worker accumulates passes of a micro-batch. */
function perWorkerText(r: ScaleOutPlan['rows'][number]): string {
  return r.microBatch < r.perWorkerBatch ? `${r.perWorkerBatch} (${r.perWorkerBatch / r.microBatch} × ${r.microBatch})` : String(r.perWorkerBatch);
}

/** The plan as text lines: a heading, the table, why each row, and the assumptions. */
export function scaleOutLines(plan: ScaleOutPlan): string[] {
  const phi = plan.noiseScale === null ? 'no noise scale' : `noise scale ${Math.round(plan.noiseScale)} (${NOISE_SOURCE[plan.noiseScaleSource ?? 'early']})`;
  const table = tableLines(
    ['WORKERS', 'PER WORKER (MICRO)', 'GLOBAL', 'RATE', 'WARM-UP', 'EFFICIENCY', 'SPEED-UP'],
    plan.rows.map((r) => [
      r.workers,
      perWorkerText(r),
      r.globalBatch,
      Number(r.learningRate.toPrecision(3)),
      `${r.warmupSteps} ${r.warmupSteps === 1 ? 'step' : 'steps'}`,
      `${Math.round(r.efficiency * 100)} %`,
      `${r.speedup.toFixed(2)}×`,
    ]),
  );
  return [
    `Scaling out (data-parallel, from batch ${plan.base.batchSize} at rate ${Number(plan.base.learningRate.toPrecision(3))} with ${plan.base.optimizer}; ${phi}; ${plan.epochs} epochs):`,
    ...table.map((l) => `  ${l}`),
    '',
    '  Why:',
    ...plan.rows.map((r) => `  • ${r.reason}`),
    '',
    '  Assumptions:',
    ...plan.assumptions.map((a) => `  • ${a}`),
  ];
}

export function printScaleOut(plan: ScaleOutPlan): void {
  for (const line of scaleOutLines(plan)) printLine(line);
}

/** `<parent> plan <id>`: the plan of a run or a tuning. */
export function addPlanCommand(parent: Command, ctx: CliContext, kind: 'run' | 'tuning'): void {
  const what = kind === 'run' ? 'run' : 'tuning session';
  parent
    .command('plan')
    .description(
      `what 1, 2, 4 and 8 data-parallel workers should train with, from a ${what}: per-worker and global batch, learning rate, warm-up and predicted speed-up (no communication cost counted)`,
    )
    .argument(kind === 'run' ? '<run>' : '<session>', `${what} id`, runId)
    .option('--json', "print one JSON document (the API's scaleOutPlan answer)")
    .action(async (id: number, _opts, cmd: Command) => {
      const answer: ScaleOutAnswer = await ctx.api().scaleOutPlan({ kind, id });
      if (ctx.json(cmd)) return printJson(answer);
      const from =
        kind === 'run'
          ? `Run ${id}${answer.tuningId !== null ? ` (measurements of tuning ${answer.tuningId})` : ' (its own settings; nothing measured)'}`
          : `Tuning session ${id}`;
      printLine(`${from}: ${answer.model}`);
      printLine('');
      printScaleOut(answer.plan);
    });
}
