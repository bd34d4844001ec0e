import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { RUN_MODELS, RUN_STATUSES } from '../../../shared/run-types.js';
import { exportFileBytes } from '../../service/app-core.js';
import { tarEntries } from '../../service/tar.js';
import { addDeleteCommand } from '../confirm-delete.js';
import { UsageError, type CliContext } from '../main.js';
import { formatPercent, printJson, printLine, printTable } from '../output.js';
import { oneOf, runId } from '../parse-flags.js';
import { datasetRef } from './datasets.js';
import { attemptLines, printRunSummary } from './train.js';
import { evalBatchOf } from '../../../shared/eval-batch.js';
import { startFromText } from '../start-model-flags.js';
import { AUGMENT_DESCRIPTIONS } from '../../../shared/fine-tuning.js';
import type { RunDetail, RunSummary } from '../../../shared/api/index.js';
import { backendLabel, distributedBatchText, distributedOrigin, distributedWhere } from '../../../shared/distributed-run.js';
import { addPlanCommand } from './scale-out.js';

/**
 * Unpacks the model archive the API exports (one top folder: model.json, weights.bin,
 * evaluation.json) into `dir`, which must not exist yet. Returns the files written.
 */
async function unpackModel(archive: Buffer, dir: string): Promise<string[]> {
  if (existsSync(dir)) throw new UsageError(`${dir} already exists; choose a new folder`);
  const written: string[] = [];
  for (const entry of await tarEntries(archive)) {
    const rel = entry.name.split('/').slice(1).join('/');
    const file = path.resolve(dir, rel);
    // The archive is the service's own, but a path out of the folder is never written.
    if (!rel || path.relative(dir, file).startsWith('..')) continue;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, entry.data);
    written.push(file);
  }
  return written;
}

function listCommand(runs: Command, ctx: CliContext): void {
  runs
    .command('list')
    .description('list runs, newest first')
    .option('--dataset <dataset>', 'only runs on this dataset (id or name)')
    .option('--status <status>', `only runs with this status: ${RUN_STATUSES.join(', ')}`, oneOf(RUN_STATUSES))
    .option('--model <model>', `only runs of this model: ${RUN_MODELS.join(', ')}`, oneOf(RUN_MODELS))
    .option('--json', 'print one JSON document')
    .action(async (opts, cmd: Command) => {
      const list = await ctx.api().listRuns({
        ...(opts.dataset !== undefined ? { dataset: datasetRef(opts.dataset as string) } : {}),
        ...(opts.status !== undefined ? { status: opts.status } : {}),
        ...(opts.model !== undefined ? { model: opts.model } : {}),
      });
      if (ctx.json(cmd)) return printJson(list);
      if (list.length === 0) return printLine('No runs yet.');
      printTable(
        ['ID', 'STATUS', 'DATASET', 'MODEL', 'BATCH', 'LR', 'BACKEND', 'BEST VAL', 'STEPS', 'CREATED'],
        list.map((r) => [
          r.id,
          r.status,
          r.datasetName,
          r.config.model,
          r.config.batchSize,
          r.config.learningRate,
          backendLabel(r),
          formatPercent(r.bestValAccuracy),
          r.steps,
          r.createdAt,
        ]),
      );
    });
}

function showCommand(runs: Command, ctx: CliContext): void {
  runs
    .command('show')
    .description('show one run: settings, backend, results')
    .argument('<run>', 'run id', runId)
    .option('--json', 'print one JSON document (the run with its epochs, down-sampled series and evaluation)')
    .action(async (id: number, _opts, cmd: Command) => {
      const detail = await ctx.api().getRun({ runId: id, misclassifiedLimit: 0 });
      if (ctx.json(cmd)) return printJson(detail);
      const r = detail.run;
      printRunSummary(r);
      for (const line of provenanceLines(r)) printLine(`  ${line}`);
      for (const s of r.backendSkipped) printLine(`  skipped ${s.backend}: ${s.reason}`);
      for (const line of attemptLines(detail)) printLine(`  ${line}`);
      printMadeWith(detail);
      if (detail.epochs.length === 0) return;
      printTable(
        ['  EPOCH', 'TRAIN LOSS', 'TRAIN ACC', 'VAL LOSS', 'VAL ACC', 'TIME'],
        detail.epochs.map((e) => [
          `  ${e.epoch}`,
          e.trainLoss.toFixed(4),
          formatPercent(e.trainAccuracy),
          e.valLoss.toFixed(4),
          formatPercent(e.valAccuracy),
          `${e.time.toFixed(1)} s`,
        ]),
      );
    });
}

/** How the run's model was made: its settings, augmentation, start model and tuning. */
export function madeWithLines(detail: RunDetail): string[] {
  const c = detail.run.config;
  const augment = c.augment ?? 'none';
  const t = detail.tuning;
  const rec = t?.report?.recommendation;
  const tuning = t
    ? `session ${t.id} (${t.mode} mode)${rec ? `: recommended batch ${rec.batchSize}, lr ${Number(rec.learningRate.toPrecision(3))}, warm-up ${rec.warmupSteps} steps` : ''}`
    : detail.run.tuningSessionId !== null
      ? `session ${detail.run.tuningSessionId} (no longer stored)`
      : '—';
  return [
    'Made with:',
    `  settings      ${c.model}, batch ${c.batchSize} (evaluation ${evalBatchOf(c)}), ${c.epochs} epoch${c.epochs === 1 ? '' : 's'}, lr ${Number(c.learningRate.toPrecision(3))} (${c.optimizer}${c.optimizer === 'sgd' ? `, momentum ${c.momentum}` : ''}), warm-up ${c.warmupSteps} steps, seed ${c.seed}, backend ${c.backend}`,
    `  augmentation  ${augment} (${AUGMENT_DESCRIPTIONS[augment]})`,
    `  started from  ${c.startFrom ? startFromText(c.startFrom) : '— (trained from scratch)'}`,
    `  tuning        ${tuning}`,
  ];
}

function printMadeWith(detail: RunDetail): void {
  printLine('');
  for (const line of madeWithLines(detail)) printLine(`  ${line}`);
}

/** Where an imported run trained and what it came from; nothing for a run trained here. */
export function provenanceLines(r: RunSummary): string[] {
  const d = r.distributed;
  if (!d) return [];
  return [
    `trained elsewhere: ${distributedWhere(d)}`,
    `  from          ${distributedOrigin(d)} (exported by AutoBatch Studio ${d.origin.appVersion} on ${d.origin.exportedAt})`,
    `  batch         ${distributedBatchText(d)}${d.fromWeights ? ", continued from this app's trained weights" : ''}`,
    `  imported from ${d.importedFrom} on ${d.importedAt}${d.partial ? ' (without its end line: still running or cut off then)' : ''}`,
  ];
}

function importCommand(runs: Command, ctx: CliContext): void {
  runs
    .command('import')
    .description("store a distributed run (an exported recipe's PyTorch DDP run) from its metrics file, to review and compare it with local runs")
    .argument('<file>', "the metrics file (metrics.jsonl), or the recipe's --out folder holding it")
    .option('--partial', 'store a file without its end line (a run still running, or cut off) as an interrupted run')
    .option('--json', 'print one JSON document (the new run)')
    .action(async (file: string, opts, cmd: Command) => {
      const r = await ctx.api().importRunMetrics({ path: path.resolve(file), ...(opts.partial ? { partial: true } : {}) });
      if (ctx.json(cmd)) return printJson(r);
      printLine(`Imported as run ${r.id} (${r.status}) on "${r.datasetName}": ${r.steps} steps, best validation accuracy ${formatPercent(r.bestValAccuracy)}`);
      for (const line of provenanceLines(r)) printLine(`  ${line}`);
      printLine(`  autobatch runs show ${r.id}`);
    });
}

function exportCommand(runs: Command, ctx: CliContext): void {
  runs
    .command('export')
    .description("write a run's metrics, one row per step, as CSV")
    .argument('<run>', 'run id', runId)
    .requiredOption('--csv <file>', 'CSV file to write')
    .option('--json', 'print one JSON document')
    .action(async (id: number, opts, cmd: Command) => {
      const file = path.resolve(opts.csv as string);
      const csv = exportFileBytes(await ctx.api().exportRunCsv({ runId: id }));
      writeFileSync(file, csv);
      const rows = Math.max(0, csv.toString('utf8').trimEnd().split('\n').length - 1);
      if (ctx.json(cmd)) return printJson({ runId: id, file, rows });
      printLine(`Wrote ${rows} rows to ${file}`);
    });
}

function deleteCommand(runs: Command, ctx: CliContext): void {
  addDeleteCommand(runs, ctx, {
    description: 'delete a run with its metrics and its model',
    argument: ['<run>', 'run id', runId],
    resolve: async (api, id: number) => ({ target: { kind: 'run', id }, call: (dryRun) => api.deleteRun({ runId: id, dryRun }) }),
  });
}

function modelExportCommand(program: Command, ctx: CliContext): void {
  const models = program.command('models').description('trained models');
  models
    .command('export')
    .description("write a run's trained model (tfjs layers format: model.json + weights.bin, with evaluation.json) into a new folder")
    .argument('<run>', 'run id', runId)
    .argument('<dir>', 'folder to create')
    .option('--json', 'print one JSON document')
    .action(async (id: number, dir: string, _opts, cmd: Command) => {
      const target = path.resolve(dir);
      if (existsSync(target)) throw new UsageError(`${target} already exists; choose a new folder`);
      const files = await unpackModel(exportFileBytes(await ctx.api().exportModel({ runId: id })), target);
      if (ctx.json(cmd)) return printJson({ runId: id, path: target, files: files.map((f) => path.relative(target, f)) });
      printLine(`Model of run ${id} written to ${target} (load it with tf.loadLayersModel)`);
    });
}

export function registerRunCommands(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('review past runs');
  listCommand(runs, ctx);
  showCommand(runs, ctx);
  importCommand(runs, ctx);
  exportCommand(runs, ctx);
  addPlanCommand(runs, ctx, 'run');
  deleteCommand(runs, ctx);
  modelExportCommand(program, ctx);
}
