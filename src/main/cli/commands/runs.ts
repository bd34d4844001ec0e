import path from 'node:path';
import { Command } from 'commander';
import { MODEL_KINDS, RUN_STATUSES } from '../../../shared/run-types.js';
import type { CliContext } from '../main.js';
import { formatPercent, printJson, printLine, printTable } from '../output.js';
import { oneOf, runId } from '../parse-flags.js';
import { printRunSummary, runJson } from './train.js';

export function registerRunCommands(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('review past runs');

  runs
    .command('list')
    .description('list runs, newest first')
    .option('--dataset <dataset>', 'only runs on this dataset (id or name)')
    .option('--status <status>', `only runs with this status: ${RUN_STATUSES.join(', ')}`, oneOf(RUN_STATUSES))
    .option('--model <model>', `only runs of this model: ${MODEL_KINDS.join(', ')}`, oneOf(MODEL_KINDS))
    .option('--json', 'print one JSON document')
    .action((opts, cmd: Command) => {
      const service = ctx.service();
      const datasetId = opts.dataset ? service.getDataset(opts.dataset).id : undefined;
      const list = service.listRuns({ datasetId, status: opts.status, model: opts.model });
      if (ctx.json(cmd)) return printJson(list.map(runJson));
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
          r.backend,
          formatPercent(r.bestValAccuracy),
          r.steps,
          r.createdAt,
        ]),
      );
    });

  runs
    .command('show')
    .description('show one run: settings, backend, results')
    .argument('<run>', 'run id', runId)
    .option('--json', 'print one JSON document (with per-epoch metrics)')
    .action((id: number, _opts, cmd: Command) => {
      const service = ctx.service();
      const r = service.getRun(id);
      const epochs = service.store.metrics.epochs(id);
      if (ctx.json(cmd))
        return printJson({ ...runJson(r), epochs, metricCount: service.store.metrics.count(id), artifacts: service.store.artifacts.listForRun(id) });
      printRunSummary(r);
      for (const s of r.backendSkipped) printLine(`  skipped ${s.backend}: ${s.reason}`);
      if (epochs.length) {
        printTable(
          ['  EPOCH', 'TRAIN LOSS', 'TRAIN ACC', 'VAL LOSS', 'VAL ACC', 'TIME'],
          epochs.map((e) => [
            `  ${e.epoch}`,
            e.trainLoss.toFixed(4),
            formatPercent(e.trainAccuracy),
            e.valLoss.toFixed(4),
            formatPercent(e.valAccuracy),
            `${e.time.toFixed(1)} s`,
          ]),
        );
      }
    });

  runs
    .command('export')
    .description("write a run's metrics, one row per step, as CSV")
    .argument('<run>', 'run id', runId)
    .requiredOption('--csv <file>', 'CSV file to write')
    .option('--json', 'print one JSON document')
    .action((id: number, opts, cmd: Command) => {
      const file = path.resolve(opts.csv);
      const { rows } = ctx.service().exportRunCsv(id, file);
      if (ctx.json(cmd)) return printJson({ runId: id, file, rows });
      printLine(`Wrote ${rows} rows to ${file}`);
    });

  const models = program.command('models').description('trained models');
  models
    .command('export')
    .description("copy a run's trained model (tfjs layers format: model.json + weights.bin) into a new folder")
    .argument('<run>', 'run id', runId)
    .argument('<dir>', 'folder to create')
    .option('--json', 'print one JSON document')
    .action((id: number, dir: string, _opts, cmd: Command) => {
      const out = ctx.service().exportModel(id, path.resolve(dir));
      if (ctx.json(cmd)) return printJson({ runId: id, path: out.path });
      printLine(`Model of run ${id} written to ${out.path} (load it with tf.loadLayersModel)`);
    });
}
