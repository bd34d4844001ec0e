import { Command } from 'commander';
import { BACKEND_CHOICES, MODEL_KINDS, OPTIMIZERS, type TrainConfig } from '../../../shared/run-types.js';
import type { AutoBatchService } from '../../service/service.js';
import type { RunRecord } from '../../store/index.js';
import type { CliContext } from '../main.js';
import { createProgress, formatBytes, formatPercent, printJson, printLine } from '../output.js';
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
  config: Partial<TrainConfig> & Pick<TrainConfig, 'model'>,
  json: boolean,
  maxSteps?: number,
): Promise<RunRecord> {
  const record = service.getDataset(dataset);
  const { runId, done } = service.startTraining({ dataset, config, maxSteps });
  const bs = config.batchSize ?? 64;
  const stepsPerEpoch = Math.ceil(record.manifest.split.trainCount / bs);
  const totalSteps = Math.min(maxSteps ?? Infinity, stepsPerEpoch * (config.epochs ?? 1));
  const progress = createProgress(`Run ${runId}`, { json });
  let lastVal = '—';
  const onMetrics = (e: { runId: number; steps: { step: number; loss: number; samplesPerSecond: number; memoryBytes: number }[]; epochs: { valAccuracy: number }[] }) => {
    if (e.runId !== runId) return;
    for (const ep of e.epochs) lastVal = formatPercent(ep.valAccuracy);
    const s = e.steps[e.steps.length - 1];
    if (s) progress.update(s.step, totalSteps, { loss: s.loss.toFixed(4), 'samples/s': Math.round(s.samplesPerSecond), mem: formatBytes(s.memoryBytes), 'val acc': lastVal });
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
    .requiredOption('--dataset <dataset>', 'dataset id or name')
    .requiredOption('--model <model>', `model: ${MODEL_KINDS.join(', ')}`, oneOf(MODEL_KINDS))
    .requiredOption('--batch-size <n>', 'samples per step', wholeNumber(1, 1 << 20))
    .requiredOption('--epochs <n>', 'passes over the training split', wholeNumber(1, 100_000))
    .requiredOption('--lr <rate>', 'learning rate, e.g. 0.001', positiveNumber(10))
    .option('--optimizer <name>', `optimizer: ${OPTIMIZERS.join(', ')}`, oneOf(OPTIMIZERS), 'adam')
    .option('--momentum <m>', 'SGD momentum', positiveNumber(1), 0.9)
    .option('--warmup-steps <n>', 'steps of linear learning-rate warm-up', wholeNumber(0), 0)
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`, oneOf(BACKEND_CHOICES), 'auto')
    .option('--seed <n>', 'seed for weights and shuffling', wholeNumber(0, 2 ** 31 - 1), 1)
    .option('--max-steps <n>', 'stop after this many steps', wholeNumber(1))
    .option('--json', 'print one JSON document')
    .action(async (opts, cmd: Command) => {
      const json = ctx.json(cmd);
      const run = await followTraining(
        ctx.service(),
        opts.dataset,
        {
          model: opts.model,
          batchSize: opts.batchSize,
          epochs: opts.epochs,
          learningRate: opts.lr,
          optimizer: opts.optimizer,
          momentum: opts.momentum,
          warmupSteps: opts.warmupSteps,
          backend: opts.backend,
          seed: opts.seed,
        },
        json,
        opts.maxSteps,
      );
      if (json) printJson(runJson(run));
      else printRunSummary(run);
      if (run.status === 'failed' || run.status === 'interrupted') throw new Error(`run ${run.id} ${run.status}: ${run.error ?? 'no reason given'}`);
    });
}

export function printRunSummary(r: RunRecord): void {
  printLine(`Run ${r.id} ${r.status}: ${r.config.model} on "${r.datasetName}", batch ${r.config.batchSize}, lr ${r.config.learningRate} (${r.config.optimizer})`);
  printLine(`  backend ${r.backend ?? '—'} on ${r.device ?? '—'}`);
  printLine(`  ${r.steps} steps in ${r.trainSeconds?.toFixed(1) ?? '—'} s, ${r.samplesPerSecond ? Math.round(r.samplesPerSecond) : '—'} samples/s`);
  printLine(`  best validation accuracy ${formatPercent(r.bestValAccuracy)}, final ${formatPercent(r.finalValAccuracy)}`);
  if (r.error) printLine(`  ${r.error}`);
}
