import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { BACKEND_CHOICES, MODEL_KINDS, OPTIMIZERS } from '../../../shared/run-types.js';
import { TUNING_MODES } from '../../../shared/tuning-types.js';
import { tuningChartSvg } from '../../../shared/tuning-chart-svg.js';
import type { TuningSessionRecord } from '../../store/index.js';
import type { AutoBatchService } from '../../service/service.js';
import type { CliContext } from '../main.js';
import { formatBytes } from '../../../shared/format.js';
import { createProgress, printJson, printLine, printTable } from '../output.js';
import { byteSize, oneOf, positiveNumber, runId, wholeNumber } from '../parse-flags.js';

function tuningJson(service: AutoBatchService, t: TuningSessionRecord) {
  const r = t.report;
  return {
    sessionId: t.id,
    status: t.status,
    dataset: { id: t.datasetId, name: t.datasetName },
    model: t.model,
    mode: t.mode,
    backend: t.backend,
    device: t.device,
    memoryBudgetBytes: t.budgetBytes,
    recommendation: r
      ? {
          batchSize: r.recommendation.batchSize,
          learningRate: r.recommendation.learningRate,
          warmupSteps: r.recommendation.warmupSteps,
          expectedSamplesPerSecond: r.recommendation.expectedSamplesPerSecond,
          memoryCeiling: r.recommendation.memoryCeiling,
          memoryHeadroom: r.recommendation.memoryHeadroom,
          noiseScale: r.recommendation.noiseScale,
          optimizer: r.recommendation.optimizer,
        }
      : null,
    reasons: r?.reasons ?? [],
    curves: r?.curves ?? [],
    saturationBatch: r?.saturationBatch ?? null,
    learningRateTest: r?.learningRateTest ?? null,
    scaleOut: r?.scaleOut ?? null,
    searchSeconds: t.searchSeconds,
    trials: service.store.tuning.trials(t.id).map((x) => ({
      seq: x.seq,
      batchSize: x.batchSize,
      kind: x.kind,
      status: x.status,
      learningRate: x.learningRate,
      seconds: x.seconds,
      cause: x.cause,
      ...x.result,
    })),
    error: t.error,
  };
}

function printTuning(service: AutoBatchService, t: TuningSessionRecord): void {
  printLine(`Tuning session ${t.id} ${t.status}: ${t.model} on "${t.datasetName}" (${t.mode} mode) — ${t.backend ?? '—'} on ${t.device ?? '—'}`);
  if (t.error) printLine(`  ${t.error}`);
  const r = t.report;
  if (r) {
    const rec = r.recommendation;
    printLine('');
    printLine(`  Recommended batch size   ${rec.batchSize}`);
    printLine(`  Learning rate            ${Number(rec.learningRate.toPrecision(3))} (${rec.optimizer}), warm-up ${rec.warmupSteps} steps`);
    printLine(`  Expected throughput      ${Math.round(rec.expectedSamplesPerSecond)} samples/s`);
    printLine(
      `  Memory ceiling           ${rec.memoryCeiling} (budget ${formatBytes(rec.memoryBudgetBytes)}${rec.memoryHeadroom !== null ? `, ${Math.round(rec.memoryHeadroom * 100)} % headroom at ${rec.batchSize}` : ''})`,
    );
    printLine(`  Gradient noise scale     ${rec.noiseScale === null ? '— (Full mode measures it)' : Math.round(rec.noiseScale)}`);
    printLine(`  Search took              ${r.searchSeconds.toFixed(1)} s`);
    printLine('');
    printLine('  Why:');
    for (const reason of r.reasons) printLine(`  • ${reason}`);
  }
  const trials = service.store.tuning.trials(t.id);
  if (trials.length) {
    printLine('');
    printTable(
      ['  #', 'KIND', 'BATCH', 'STATUS', 'RESULT'],
      trials.map((x) => [
        `  ${x.seq}`,
        x.kind,
        x.batchSize,
        x.status,
        x.cause ??
          (x.kind === 'memory'
            ? formatBytes(Number(x.result.peakBytes))
            : x.kind === 'throughput'
              ? `${Math.round(Number(x.result.samplesPerSecond))} samples/s`
              : x.kind === 'noise'
                ? `noise scale ${Number(x.result.noiseScale).toFixed(1)}`
                : x.kind === 'learning-rate'
                  ? `${Array.isArray(x.result.rates) ? x.result.rates.length : 0} steps, rates up to ${Array.isArray(x.result.rates) ? Number(x.result.rates.at(-1)).toExponential(1) : '—'}`
                  : `val loss ${Number(x.result.valLoss).toFixed(3)}`),
      ]),
    );
  }
}

export function registerTuneCommands(program: Command, ctx: CliContext): void {
  program
    .command('tune')
    .description(
      'automatic batch-size search: memory ceiling, throughput and a learning-rate range test (quick), plus gradient noise scale, goodput and validation trials (full)',
    )
    .requiredOption('--dataset <dataset>', 'dataset id or name')
    .requiredOption('--model <model>', `model: ${MODEL_KINDS.join(', ')}`, oneOf(MODEL_KINDS))
    .option('--mode <mode>', `search mode: ${TUNING_MODES.join(', ')}`, oneOf(TUNING_MODES), 'quick')
    .option('--memory-budget <size>', 'use at most this much memory, e.g. 2GiB (default: the device’s)', byteSize)
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`, oneOf(BACKEND_CHOICES), 'auto')
    .option('--optimizer <name>', `optimizer the rate is scaled for: ${OPTIMIZERS.join(', ')}`, oneOf(OPTIMIZERS), 'adam')
    .option('--base-batch <n>', 'batch size whose learning rate is known to work', wholeNumber(1, 1 << 16), 32)
    .option('--base-lr <rate>', 'learning rate known to work at the base batch (with the range test: where its ramp is centred)', positiveNumber(10), 1e-3)
    .option('--no-lr-search', 'trust --base-lr instead of finding the rate with a range test')
    .option('--epochs <n>', 'epochs the recommendation is planned for', wholeNumber(1, 100_000), 10)
    .option('--chart <file>', 'write the curves m(B), X(B), E(B), G(B) with the choice and the budget marked, as SVG')
    .option('--json', 'print one JSON document')
    .action(async (opts, cmd: Command) => {
      const json = ctx.json(cmd);
      const service = ctx.service();
      const { sessionId, done } = service.startTuning({
        dataset: opts.dataset,
        model: opts.model,
        mode: opts.mode,
        backend: opts.backend,
        optimizer: opts.optimizer,
        memoryBudgetBytes: opts.memoryBudget,
        baseBatchSize: opts.baseBatch,
        baseLearningRate: opts.baseLr,
        plannedEpochs: opts.epochs,
        searchLearningRate: opts.lrSearch,
      });
      const progress = createProgress('Tuning', { json }, '{bar} {phase} | batch {batch} | ETA {eta_s}');
      const onProgress = (p: { sessionId: number; phase: string; trial: number; batchSize: number | null; etaSeconds: number | null }) => {
        if (p.sessionId !== sessionId) return;
        progress.update(p.trial, p.trial + Math.max(1, Math.round((p.etaSeconds ?? 1) / 0.3)), {
          phase: p.phase,
          batch: p.batchSize ?? '—',
          eta_s: p.etaSeconds === null ? '?' : `${p.etaSeconds}s`,
        });
      };
      service.on('tune-progress', onProgress);
      const onSigint = () => service.stopTuning(sessionId);
      process.once('SIGINT', onSigint);
      let t: TuningSessionRecord;
      try {
        t = await done;
      } finally {
        process.off('SIGINT', onSigint);
        service.off('tune-progress', onProgress);
        progress.stop();
      }
      if (opts.chart && t.report) {
        const file = path.resolve(opts.chart);
        writeFileSync(file, tuningChartSvg(t.report, `Auto-tune ${t.id}: ${t.model} on ${t.datasetName} (${t.device ?? t.backend})`));
        if (!json) printLine(`Chart written to ${file}`);
      }
      if (json) printJson(tuningJson(service, t));
      else printTuning(service, t);
      if (t.status !== 'completed') throw new Error(`tuning session ${t.id} ${t.status}${t.error ? `: ${t.error}` : ''}`);
    });

  const tunings = program.command('tunings').description('review past Auto-tune sessions');
  tunings
    .command('list')
    .description('list tuning sessions, newest first')
    .option('--json', 'print one JSON document')
    .action((_opts, cmd: Command) => {
      const service = ctx.service();
      const list = service.listTunings();
      if (ctx.json(cmd)) return printJson(list.map((t) => tuningJson(service, t)));
      if (list.length === 0) return printLine('No tuning sessions yet. Try: autobatch tune --dataset mnist --model small');
      printTable(
        ['ID', 'STATUS', 'DATASET', 'MODEL', 'MODE', 'BATCH', 'LR', 'SEARCH'],
        list.map((t) => [
          t.id,
          t.status,
          t.datasetName,
          t.model,
          t.mode,
          t.report?.recommendation.batchSize,
          t.report ? Number(t.report.recommendation.learningRate.toPrecision(3)) : null,
          t.searchSeconds ? `${t.searchSeconds.toFixed(1)} s` : null,
        ]),
      );
    });
  tunings
    .command('show')
    .description('show a tuning session: recommendation, reasons, every trial')
    .argument('<session>', 'tuning session id', runId)
    .option('--chart <file>', 'write its curves as SVG')
    .option('--json', 'print one JSON document')
    .action((id: number, opts, cmd: Command) => {
      const service = ctx.service();
      const t = service.getTuning(id);
      if (opts.chart && t.report) writeFileSync(path.resolve(opts.chart), tuningChartSvg(t.report, `Auto-tune ${t.id}: ${t.model} on ${t.datasetName}`));
      if (ctx.json(cmd)) return printJson(tuningJson(service, t));
      printTuning(service, t);
    });
}
