import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { TUNING_DEFAULTS, type TuningDetail, type TuningSummary } from '../../../shared/api/index.js';
import { freshnessText } from '../../../shared/tuning-fingerprint.js';
import { BACKEND_CHOICES, MODEL_KINDS, OPTIMIZERS } from '../../../shared/run-types.js';
import { TUNING_MODES, type TrialRecord, type TuningReport } from '../../../shared/tuning-types.js';
import { tuningChartSvg } from '../../../shared/tuning-chart-svg.js';
import { followTuning } from '../follow.js';
import { exportFileBytes } from '../../service/app-core.js';
import { addDeleteCommand } from '../confirm-delete.js';
import { PYTHON_FLAG_HELP, UsageError, type CliContext } from '../main.js';
import { addStartModelOptions, startFromFlags, startFromText } from '../start-model-flags.js';
import { formatBytes, formatDuration } from '../../../shared/format.js';
import { engineLabel, MEMORY_SOURCE_LABELS, memorySourceOf } from '../../../shared/memory-source.js';
import { printJson, printLine, printTable } from '../output.js';
import { byteSize, duration, oneOf, positiveNumber, runId, wholeNumber } from '../parse-flags.js';
import { datasetRef } from './datasets.js';
import { augmentFlagHelp } from './train.js';
import { addPlanCommand, printScaleOut } from './scale-out.js';
import { AUGMENT_LEVELS, type AugmentLevel } from '../../../shared/fine-tuning.js';

/** What a trial measured, in a few words. */
function trialResult(x: TrialRecord): string {
  if (x.cause) return x.cause;
  const r = x.result;
  switch (x.kind) {
    case 'memory':
      return formatBytes(Number(r.peakBytes));
    case 'forward-memory':
      return `${formatBytes(Number(r.peakBytes))} forward only`;
    case 'throughput':
      return `${Math.round(Number(r.samplesPerSecond))} samples/s`;
    case 'noise':
      return `noise scale ${Number(r.noiseScale).toFixed(1)}`;
    case 'learning-rate': {
      const rates = Array.isArray(r.rates) ? r.rates : [];
      return `${rates.length} steps, rates up to ${rates.length ? Number(rates.at(-1)).toExponential(1) : '—'}`;
    }
    case 'trial':
      return `val loss ${Number(r.valLoss).toFixed(3)}`;
  }
}

/** ", of 0.6 s allowed (5 % of a 12 s run; 2 probes cut)", or "" for reports from before the allowance. */
function allowanceText(a: TuningReport['allowance']): string {
  if (!a || a.allowanceSeconds === null || a.plannedSeconds === null) return '';
  if (a.reusedFrom !== undefined) return `: no search, tuning #${a.reusedFrom}'s findings stand (see Why)`;
  const cuts = a.cuts.length ? `; ${a.cuts.length} ${a.cuts.length === 1 ? 'probe' : 'probes'} shortened or skipped` : '';
  return `, of ${formatDuration(a.allowanceSeconds)} allowed (${Math.round(a.share * 100)} % of a ${formatDuration(a.plannedSeconds)} run${cuts})`;
}

function printTuning(t: TuningDetail): void {
  printLine(
    `Tuning session ${t.id} ${t.status}: ${t.model} on "${t.datasetName}" (${t.mode} mode, augment ${t.request.augment ?? 'none'}) — ${t.rung ? `${engineLabel(t.rung)} ${t.rung}` : (t.backend ?? '—')} on ${t.device ?? '—'}`,
  );
  const source = memorySourceOf(
    t.backend,
    t.trials.filter((x) => x.kind === 'memory' && x.status === 'ok').map((x) => x.result),
  );
  if (source) printLine(`  Memory measured as the ${MEMORY_SOURCE_LABELS[source]} of each step`);
  if (t.request.startFrom) printLine(`  Started from ${startFromText(t.request.startFrom)}`);
  if (t.freshness) printLine(`  Fingerprint: ${freshnessText(t.freshness)}`);
  if (t.error) printLine(`  ${t.error}`);
  const r = t.report;
  if (r) {
    const rec = r.recommendation;
    const step = rec.microBatchSize ?? rec.batchSize;
    const headroom = rec.memoryHeadroom !== null ? `, ${Math.round(rec.memoryHeadroom * 100)} % headroom at ${step}` : '';
    printLine('');
    printLine(`  Recommended batch size   ${rec.batchSize}`);
    if (rec.microBatchSize !== undefined)
      printLine(
        `  Micro-batch              ${rec.microBatchSize} (${rec.batchSize / rec.microBatchSize} passes accumulated per step: the batch is above the memory ceiling)`,
      );
    printLine(`  Learning rate            ${Number(rec.learningRate.toPrecision(3))} (${rec.optimizer}), warm-up ${rec.warmupSteps} steps`);
    printLine(`  Expected throughput      ${Math.round(rec.expectedSamplesPerSecond)} samples/s`);
    printLine(`  Memory ceiling           ${rec.memoryCeiling} (budget ${formatBytes(rec.memoryBudgetBytes)}${headroom})`);
    printLine(`  Evaluation batch         ${rec.evalBatchSize ?? `— (not measured: runs validate at their batch size)`}`);
    const late = r.lateNoise
      ? ` (early forecast ${Math.round(r.lateNoise.earlyNoiseScale)}; measured ${Math.round(r.lateNoise.noiseScale)} after ${r.lateNoise.pretrainSteps} steps of training)`
      : '';
    printLine(`  Gradient noise scale     ${rec.noiseScale === null ? '— (Full mode measures it)' : `${Math.round(rec.noiseScale)}${late}`}`);
    printLine(`  Search took              ${r.searchSeconds.toFixed(1)} s${allowanceText(r.allowance)}`);
    const rt = r.learningRateTest;
    if (rt?.spread != null)
      printLine(`  Rate readings            ${Number(rt.spread.toPrecision(2))}× apart (${rt.sure ? 'their mean taken' : 'too far apart: the lower taken'})`);
    printLine('');
    printLine('  Why:');
    for (const reason of r.reasons) printLine(`  • ${reason}`);
  }
  if (t.scaleOutPlan) {
    printLine('');
    printScaleOut(t.scaleOutPlan);
  }
  if (t.trials.length) {
    printLine('');
    printTable(
      ['  #', 'KIND', 'BATCH', 'STATUS', 'RESULT'],
      t.trials.map((x) => [`  ${x.seq}`, x.kind, x.batchSize, x.status, trialResult(x)]),
    );
  }
}

function writeChart(file: string, t: TuningDetail): string | undefined {
  if (!t.report) return undefined;
  const out = path.resolve(file);
  writeFileSync(out, tuningChartSvg(t.report, `Auto-tune ${t.id}: ${t.model} on ${t.datasetName} (${t.device ?? t.backend ?? 'unknown device'})`));
  return out;
}

function tuneCommand(program: Command, ctx: CliContext): void {
  const tune = program
    .command('tune')
    .description(
      'automatic batch-size search: memory ceiling, throughput and a learning-rate range test (quick), plus gradient noise scale, goodput and validation trials (full)',
    )
    .requiredOption('--dataset <dataset>', 'dataset id or name')
    .option('--model <model>', `model: ${MODEL_KINDS.join(', ')} (required unless --from-model)`, oneOf(MODEL_KINDS))
    .option('--mode <mode>', `search mode: ${TUNING_MODES.join(', ')} (default ${TUNING_DEFAULTS.mode})`, oneOf(TUNING_MODES))
    .option('--memory-budget <size>', "use at most this much memory, e.g. 2GiB (default: the settings' budget, else the device's)", byteSize)
    .option(
      '--backend <name>',
      `compute backend: ${BACKEND_CHOICES.join(', ')} (default: the settings' backend, else ${TUNING_DEFAULTS.backend})`,
      oneOf(BACKEND_CHOICES),
    )
    .option('--optimizer <name>', `optimizer the rate is scaled for: ${OPTIMIZERS.join(', ')} (default ${TUNING_DEFAULTS.optimizer})`, oneOf(OPTIMIZERS))
    .option('--base-batch <n>', `batch size whose learning rate is known to work (default ${TUNING_DEFAULTS.baseBatchSize})`, wholeNumber(1, 1 << 16))
    .option(
      '--base-lr <rate>',
      `learning rate known to work at the base batch (with the range test: where its ramp is centred; default ${TUNING_DEFAULTS.baseLearningRate})`,
      positiveNumber(10),
    )
    .option('--no-lr-search', 'trust --base-lr instead of finding the rate with a range test')
    .option('--augment <level>', augmentFlagHelp(), oneOf(AUGMENT_LEVELS))
    .option('--epochs <n>', `epochs the recommendation is planned for (default ${TUNING_DEFAULTS.plannedEpochs})`, wholeNumber(1, 100_000))
    .option(
      '--budget <time>',
      "the time the planned run may take, e.g. 10m or 1h30m: the search spends at most 5 % (quick) or 15 % (full) of it (default: a share of the planned epochs' predicted time)",
      duration,
    )
    .option(
      '--no-reuse',
      'always search afresh, even when the time allowed is too short for a search (default: a previous tuning of this model and dataset stands in)',
    )
    .option('--chart <file>', 'write the curves m(B), X(B), E(B), G(B) with the choice and the budget marked, as SVG');
  addStartModelOptions(tune)
    .option('--python <path>', PYTHON_FLAG_HELP)
    .option('--json', 'print one JSON document')
    .action(async (opts, cmd: Command) => {
      const json = ctx.json(cmd);
      const startFrom = startFromFlags(opts);
      if (!startFrom && opts.model === undefined) throw new UsageError('missing --model (or start from a trained model with --from-model)');
      const api = ctx.api();
      const t = await followTuning(
        api,
        () =>
          api.startTuning({
            dataset: datasetRef(opts.dataset as string),
            ...(opts.model !== undefined ? { model: opts.model } : {}),
            ...(startFrom ? { startFrom } : {}),
            ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
            ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
            ...(opts.optimizer !== undefined ? { optimizer: opts.optimizer } : {}),
            ...(opts.memoryBudget !== undefined ? { memoryBudgetBytes: opts.memoryBudget as number } : {}),
            ...(opts.baseBatch !== undefined ? { baseBatchSize: opts.baseBatch as number } : {}),
            ...(opts.baseLr !== undefined ? { baseLearningRate: opts.baseLr as number } : {}),
            ...(opts.epochs !== undefined ? { plannedEpochs: opts.epochs as number } : {}),
            ...(opts.budget !== undefined ? { budgetSeconds: opts.budget as number } : {}),
            ...(opts.reuse === false ? { reuseKnown: false } : {}),
            ...(opts.augment !== undefined ? { augment: opts.augment as AugmentLevel } : {}),
            searchLearningRate: opts.lrSearch as boolean,
          }),
        json,
      );
      const chart = opts.chart ? writeChart(opts.chart as string, t) : undefined;
      if (json) printJson(t);
      else {
        if (chart) printLine(`Chart written to ${chart}`);
        printTuning(t);
      }
      if (t.status !== 'completed') throw new Error(`tuning session ${t.id} ${t.status}${t.error ? `: ${t.error}` : ''}`);
    });
}

function listCommand(tunings: Command, ctx: CliContext): void {
  tunings
    .command('list')
    .description('list tuning sessions, newest first')
    .option('--json', 'print one JSON document')
    .action(async (_opts, cmd: Command) => {
      const list = await ctx.api().listTunings();
      if (ctx.json(cmd)) return printJson(list);
      if (list.length === 0) return printLine('No tuning sessions yet. Try: autobatch tune --dataset mnist --model small');
      printTable(
        ['ID', 'STATUS', 'DATASET', 'MODEL', 'MODE', 'BATCH', 'LR', 'SEARCH', 'FINGERPRINT'],
        list.map((t) => [
          t.id,
          t.status,
          t.datasetName,
          t.model,
          t.mode,
          t.recommendation?.batchSize,
          t.recommendation ? Number(t.recommendation.learningRate.toPrecision(3)) : null,
          t.searchSeconds ? `${t.searchSeconds.toFixed(1)} s` : null,
          listFreshness(t),
        ]),
      );
      // The column says stale or not; what changed is worth its own lines.
      for (const t of list.filter((x) => x.freshness?.state === 'stale')) printLine(`Tuning ${t.id} is ${freshnessText(t.freshness!)}`);
    });
}

/** The list's column: "stale (2 changes)", "up to date", "unknown". */
function listFreshness(t: TuningSummary): string {
  const f = t.freshness;
  if (!f) return '—';
  if (f.state === 'stale') return `stale (${f.changes.length} ${f.changes.length === 1 ? 'change' : 'changes'})`;
  return f.state === 'fresh' ? 'up to date' : 'unknown';
}

function showCommand(tunings: Command, ctx: CliContext): void {
  tunings
    .command('show')
    .description('show a tuning session: recommendation, reasons, the scale-out plan, every trial')
    .argument('<session>', 'tuning session id', runId)
    .option('--chart <file>', 'write its curves as SVG')
    .option('--json', 'print one JSON document')
    .action(async (id: number, opts, cmd: Command) => {
      const t = await ctx.api().getTuning({ sessionId: id });
      if (opts.chart) writeChart(opts.chart as string, t);
      if (ctx.json(cmd)) return printJson(t);
      printTuning(t);
    });
}

/** `<id|all>`: a session id, or every session ('all', undefined to the API). */
function sessionOrAll(value: string): number | undefined {
  if (value.trim().toLowerCase() === 'all') return undefined;
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`expected a tuning session id (see autobatch tunings list) or "all", got "${value}"`);
  return runId(value);
}

function exportCommand(tunings: Command, ctx: CliContext): void {
  tunings
    .command('export')
    .description("every trial of a tuning session (or of all of them) as data: one row per trial with the session's dataset, model, engine, backend and mode")
    .argument('<session>', 'tuning session id, or "all"', sessionOrAll)
    .option('--csv', 'write CSV: the context and trial columns, then one column per measured value (the default)')
    .option('--out <file>', 'write to this file instead of standard output')
    .option('--json', 'print the rows as one JSON document')
    .action(async (sessionId: number | undefined, opts, cmd: Command) => {
      const json = ctx.json(cmd);
      if (json && opts.csv) throw new UsageError('choose one of --csv and --json');
      const api = ctx.api();
      const params = sessionId === undefined ? {} : { sessionId };
      const out = opts.out === undefined ? undefined : path.resolve(opts.out as string);
      if (out === undefined) {
        if (json) return printJson(await api.tuningTrialRows(params));
        return void process.stdout.write(exportFileBytes(await api.exportTuningCsv(params)));
      }
      const rows = await api.tuningTrialRows(params);
      writeFileSync(out, json ? `${JSON.stringify(rows, null, 2)}\n` : exportFileBytes(await api.exportTuningCsv(params)));
      const sessions = new Set(rows.map((r) => r.tuningId)).size;
      // With --json, stdout still holds one JSON document: what was written where.
      if (json) return printJson({ file: out, rows: rows.length, sessions });
      printLine(`Wrote ${rows.length} ${rows.length === 1 ? 'trial' : 'trials'} of ${sessions} tuning ${sessions === 1 ? 'session' : 'sessions'} to ${out}`);
    });
}

function deleteCommand(tunings: Command, ctx: CliContext): void {
  addDeleteCommand(tunings, ctx, {
    description: 'delete a tuning session with its measurements; runs trained with it are kept',
    argument: ['<session>', 'tuning session id', runId],
    resolve: async (api, id: number) => ({ target: { kind: 'tuning', id }, call: (dryRun) => api.deleteTuning({ sessionId: id, dryRun }) }),
  });
}

export function registerTuneCommands(program: Command, ctx: CliContext): void {
  tuneCommand(program, ctx);
  const tunings = program.command('tunings').description('review past Auto-tune sessions');
  listCommand(tunings, ctx);
  showCommand(tunings, ctx);
  exportCommand(tunings, ctx);
  addPlanCommand(tunings, ctx, 'tuning');
  deleteCommand(tunings, ctx);
}
