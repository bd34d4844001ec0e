import { Command } from 'commander';
import { BACKEND_CHOICES, MODEL_KINDS, OPTIMIZERS, type TrainConfig } from '../../../shared/run-types.js';
import type { AutoBatchService } from '../../service/service.js';
import type { RunRecord } from '../../store/index.js';
import type { CliContext } from '../main.js';
import { UserError } from '../../service/errors.js';
import { formatBytes } from '../../../shared/format.js';
import { createProgress, formatPercent, printJson, printLine } from '../output.js';
import { oneOf, positiveNumber, wholeNumber } from '../parse-flags.js';

export function runJson(r: RunRecord) {
  return {
    runId: r.id,
    status: r.status,
    dataset: { id: r.datasetId, name: r.datasetName },
    config: r.config,
    backend: r.backend,
    device: r.device,
    backendSkipped: r.backendSkipped,
    bestValAccuracy: r.bestValAccuracy,
    finalValAccuracy: r.finalValAccuracy,
    steps: r.steps,
    trainSeconds: r.trainSeconds,
    samplesPerSecond: r.samplesPerSecond,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    error: r.error,
  };
}

/** Starts a run and follows it to the end with a progress bar; Ctrl-C stops it cleanly. */
export async function followTraining(
  service: AutoBatchService,
  dataset: string,
  config: Partial<TrainConfig>,
  json: boolean,
  maxSteps?: number,
  fromTuning?: number,
): Promise<RunRecord> {
  const record = service.getDataset(dataset);
  const { runId, done } = service.startTraining({ dataset, config, maxSteps, ...(fromTuning !== undefined ? { fromTuning } : {}) });
  const started = service.getRun(runId).config;
  const bs = started.batchSize;
  const stepsPerEpoch = Math.ceil(record.manifest.split.trainCount / bs);
  const totalSteps = Math.min(maxSteps ?? Infinity, stepsPerEpoch * started.epochs);
  const progress = createProgress(`Run ${runId}`, { json });
  let lastVal = '—';
  const onMetrics = (e: {
    runId: number;
    steps: { step: number; loss: number; samplesPerSecond: number; memoryBytes: number }[];
    epochs: { valAccuracy: number }[];
  }) => {
    if (e.runId !== runId) return;
    for (const ep of e.epochs) lastVal = formatPercent(ep.valAccuracy);
    const s = e.steps[e.steps.length - 1];
    if (s)
      progress.update(s.step, totalSteps, {
        loss: s.loss.toFixed(4),
        'samples/s': Math.round(s.samplesPerSecond),
        mem: formatBytes(s.memoryBytes),
        'val acc': lastVal,
      });
  };
  service.on('run-metrics', onMetrics);
  if (!json) {
    service.once('run-backend', ({ report }) => {
      process.stderr.write(`Run ${runId}: training on ${report.device} [${report.name}]\n`);
      for (const s of report.skipped) process.stderr.write(`  skipped ${s.backend}: ${s.reason}\n`);
    });
  }
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\nStopping run ${runId}… (Ctrl-C again to quit at once)\n`);
      service.stopRun(runId);
    } else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  try {
    return await done;
  } finally {
    process.off('SIGINT', onSigint);
    service.off('run-metrics', onMetrics);
    progress.stop();
  }
}

export function registerTrainCommand(program: Command, ctx: CliContext): void {
  program
    .command('train')
    .description('train a model on an imported dataset in a trainer process; metrics are stored as they come')
    .option('--dataset <dataset>', 'dataset id or name (required unless --from-tuning)')
    .option('--model <model>', `model: ${MODEL_KINDS.join(', ')} (required unless --from-tuning)`, oneOf(MODEL_KINDS))
    .option('--batch-size <n>', 'samples per step (required unless --from-tuning)', wholeNumber(1, 1 << 20))
    .option('--epochs <n>', 'passes over the training split (required unless --from-tuning, which plans 10)', wholeNumber(1, 100_000))
    .option('--lr <rate>', 'learning rate, e.g. 0.001 (required unless --from-tuning)', positiveNumber(10))
    .option(
      '--from-tuning <session>',
      "train with an Auto-tune session's recommendation (batch size, learning rate, warm-up, optimizer, backend); other flags override it",
      wholeNumber(1),
    )
    .option('--optimizer <name>', `optimizer: ${OPTIMIZERS.join(', ')} (default adam)`, oneOf(OPTIMIZERS))
    .option('--momentum <m>', 'SGD momentum', positiveNumber(1), 0.9)
    .option('--warmup-steps <n>', 'steps of linear learning-rate warm-up (default 0)', wholeNumber(0))
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')} (default auto)`, oneOf(BACKEND_CHOICES))
    .option('--seed <n>', 'seed for weights and shuffling', wholeNumber(0, 2 ** 31 - 1), 1)
    .option('--max-steps <n>', 'stop after this many steps', wholeNumber(1))
    .option('--validations-per-epoch <n>', 'validate this many times per epoch (default 1)', wholeNumber(1, 20))
    .option('--json', 'print one JSON document')
    .action(async (opts, cmd: Command) => {
      const json = ctx.json(cmd);
      if (opts.fromTuning === undefined) {
        const missing = [
          ['--dataset', opts.dataset],
          ['--model', opts.model],
          ['--batch-size', opts.batchSize],
          ['--epochs', opts.epochs],
          ['--lr', opts.lr],
        ]
          .filter(([, v]) => v === undefined)
          .map(([k]) => k);
        if (missing.length) throw new UserError(`missing ${missing.join(', ')} (or train with --from-tuning <session>)`);
      }
      const service = ctx.service();
      const tuning = opts.fromTuning !== undefined ? service.getTuning(opts.fromTuning) : undefined;
      const given = Object.fromEntries(
        Object.entries({
          model: opts.model,
          batchSize: opts.batchSize,
          epochs: opts.epochs ?? tuning?.request.plannedEpochs,
          learningRate: opts.lr,
          optimizer: opts.optimizer,
          momentum: opts.momentum,
          warmupSteps: opts.warmupSteps,
          backend: opts.backend,
          seed: opts.seed,
          validationsPerEpoch: opts.validationsPerEpoch,
        }).filter(([, v]) => v !== undefined),
      ) as Partial<TrainConfig>;
      const run = await followTraining(service, opts.dataset ?? String(tuning!.datasetId), given, json, opts.maxSteps, opts.fromTuning);
      if (json) printJson(runJson(run));
      else printRunSummary(run);
      if (run.status === 'failed' || run.status === 'interrupted') throw new Error(`run ${run.id} ${run.status}: ${run.error ?? 'no reason given'}`);
    });
}

export function printRunSummary(r: RunRecord): void {
  printLine(
    `Run ${r.id} ${r.status}: ${r.config.model} on "${r.datasetName}", batch ${r.config.batchSize}, lr ${r.config.learningRate} (${r.config.optimizer})`,
  );
  printLine(`  backend ${r.backend ?? '—'} on ${r.device ?? '—'}`);
  printLine(`  ${r.steps} steps in ${r.trainSeconds?.toFixed(1) ?? '—'} s, ${r.samplesPerSecond ? Math.round(r.samplesPerSecond) : '—'} samples/s`);
  printLine(`  best validation accuracy ${formatPercent(r.bestValAccuracy)}, final ${formatPercent(r.finalValAccuracy)}`);
  if (r.error) printLine(`  ${r.error}`);
}
