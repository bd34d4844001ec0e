import { Command } from 'commander';
import { TRAIN_DEFAULTS, type Api, type RunDetail, type RunSummary, type TuningCheck } from '../../../shared/api/index.js';
import { BACKEND_CHOICES, MODEL_KINDS, OPTIMIZERS, type TrainConfig } from '../../../shared/run-types.js';
import { AUGMENT_DESCRIPTIONS, AUGMENT_LEVELS, defaultAugmentation } from '../../../shared/fine-tuning.js';
import { DATASET_KINDS } from '../../../shared/dataset-types.js';
import { followRun } from '../follow.js';
import { accumulationText } from '../../../shared/accumulation.js';
import { batchAdaptedText, batchChangeText, isResumableStatus, type RunEvent } from '../../../shared/run-events.js';
import { CHECKPOINT_REASON_TEXT } from '../../../shared/checkpoint.js';
import { PYTHON_FLAG_HELP, UsageError, type CliContext } from '../main.js';
import { formatPercent, printJson, printLine } from '../output.js';
import { oneOf, positiveNumber, wholeNumber } from '../parse-flags.js';
import { datasetRef } from './datasets.js';
import { addStartModelOptions, startFromFlags } from '../start-model-flags.js';

/** --augment's help: the levels, what each does, and the default (`inherited`: where a level comes from before the dataset's kind decides). */
export function augmentFlagHelp(inherited?: string): string {
  const levels = AUGMENT_LEVELS.map((l) => `${l} (${AUGMENT_DESCRIPTIONS[l]})`).join(', ');
  const byKind = DATASET_KINDS.map((k) => `${defaultAugmentation(k)} for ${k}`).join(', ');
  return `augmentation of training batches: ${levels}; default ${inherited ? `${inherited}, else ` : ''}by the dataset's kind: ${byKind}`;
}

/** The flags of how a run's batch trains: accumulation and the adaptive batch. */
function batchOptions(cmd: Command): Command {
  return cmd
    .option(
      '--micro-batch <n>',
      "gradient accumulation: train each step's batch this many samples at a time, their gradients added up (default: the whole batch, or — with --from-tuning and a batch above the tuning's memory ceiling — the fewest equal passes under it)",
      wholeNumber(1, 1 << 20),
    )
    .option(
      '--adaptive',
      "adapt the batch during training: the noise scale measured from the run's own gradients, the batch changed when a tuning's throughput predicts 5 % more goodput (needs an Auto-tune of this model and dataset)",
    );
}

export function registerTrainCommand(program: Command, ctx: CliContext): void {
  const train = batchOptions(program.command('train'))
    .description('train a model on an imported dataset in a trainer process; metrics are stored as they come')
    .option('--dataset <dataset>', 'dataset id or name (required unless --from-tuning)')
    .option('--model <model>', `model: ${MODEL_KINDS.join(', ')} (required unless --from-tuning or --from-model)`, oneOf(MODEL_KINDS))
    .option('--batch-size <n>', 'samples per optimizer step: the effective batch (required unless --from-tuning)', wholeNumber(1, 1 << 20))
    .option('--epochs <n>', "passes over the training split (required unless --from-tuning, which plans the session's epochs)", wholeNumber(1, 100_000))
    .option('--lr <rate>', 'learning rate, e.g. 0.001 (required unless --from-tuning)', positiveNumber(10))
    .option(
      '--from-tuning <session>',
      "train with an Auto-tune session's recommendation (batch size, learning rate, warm-up, optimizer, backend); other flags override it",
      wholeNumber(1),
    )
    .option('--optimizer <name>', `optimizer: ${OPTIMIZERS.join(', ')} (default ${TRAIN_DEFAULTS.optimizer})`, oneOf(OPTIMIZERS))
    .option('--momentum <m>', `SGD momentum (default ${TRAIN_DEFAULTS.momentum})`, positiveNumber(1))
    .option('--warmup-steps <n>', `steps of linear learning-rate warm-up (default ${TRAIN_DEFAULTS.warmupSteps})`, wholeNumber(0))
    .option(
      '--backend <name>',
      `compute backend: ${BACKEND_CHOICES.join(', ')} (default: the settings' backend, else ${TRAIN_DEFAULTS.backend})`,
      oneOf(BACKEND_CHOICES),
    )
    .option('--seed <n>', `seed for weights and shuffling (default ${TRAIN_DEFAULTS.seed})`, wholeNumber(0, 2 ** 31 - 1))
    .option('--max-steps <n>', 'stop after this many steps', wholeNumber(1))
    .option('--validations-per-epoch <n>', 'validate this many times per epoch (default 1)', wholeNumber(1, 20))
    .option('--eval-batch <n>', "samples per validation pass (default: the tuning's with --from-tuning, else the batch size)", wholeNumber(1, 1 << 16))
    .option('--augment <level>', augmentFlagHelp("the tuning session's with --from-tuning"), oneOf(AUGMENT_LEVELS))
    .option(
      '--refuse-stale',
      'with --from-tuning: do not train when the tuning is stale (its model, dataset, backend, device or versions changed since it measured); say what changed and how to tune again',
    )
    .option(
      '--resume <run>',
      'continue a stopped, interrupted or failed run from its last checkpoint, on its engine and backend (no other run settings)',
      wholeNumber(1),
    );
  addStartModelOptions(train)
    .option('--python <path>', PYTHON_FLAG_HELP)
    .option('--json', 'print one JSON document')
    .action(async (opts, cmd: Command) => {
      const json = ctx.json(cmd);
      if (opts.resume !== undefined) return resume(ctx, cmd, opts.resume as number, json);
      const startFrom = startFromFlags(opts);
      if (opts.fromTuning === undefined) {
        const missing = [
          ['--dataset', opts.dataset],
          ['--model', startFrom ? '' : opts.model],
          ['--batch-size', opts.batchSize],
          ['--epochs', opts.epochs],
          ['--lr', opts.lr],
        ]
          .filter(([, v]) => v === undefined)
          .map(([k]) => k);
        if (missing.length) throw new UsageError(`missing ${missing.join(', ')} (or train with --from-tuning <session>)`);
      }
      const config = configFromFlags(opts);
      const api = ctx.api();
      const check = opts.fromTuning !== undefined ? await checkStale(api, opts, config, opts.refuseStale === true) : undefined;
      const detail = await followRun(
        api,
        () =>
          api.startTraining({
            ...(opts.dataset !== undefined ? { dataset: datasetRef(opts.dataset as string) } : {}),
            ...(opts.fromTuning !== undefined ? { fromTuning: opts.fromTuning as number } : {}),
            ...(startFrom ? { startFrom } : {}),
            config,
            ...(opts.maxSteps !== undefined ? { maxSteps: opts.maxSteps as number } : {}),
          }),
        json,
      );
      reportRun(detail, json, check ? staleJson(check) : undefined);
    });
}

/**
 * Before a run with --from-tuning: whether the tuning still holds. A stale one is said on stderr
 * (each change, and the `autobatch tune` line that measures afresh) and the run goes on, unless
 * --refuse-stale. A tuning without a fingerprint is neither: a note says so, and nothing is refused.
 */
async function checkStale(api: Api, opts: Record<string, unknown>, config: Partial<TrainConfig>, refuse: boolean): Promise<TuningCheck> {
  const changes = { model: config.model, augment: config.augment, backend: config.backend };
  const check = await api.checkTuning({
    sessionId: opts.fromTuning as number,
    ...(opts.dataset !== undefined ? { dataset: datasetRef(opts.dataset as string) } : {}),
    config: Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
  });
  const text = staleText(check);
  if (text) process.stderr.write(`${text}\n`);
  // The command's error is one line (main.ts): the changes are on the lines above it.
  if (check.freshness.state === 'stale' && refuse) throw new Error(`not training with stale tuning ${check.sessionId} (--refuse-stale)`);
  return check;
}

/** The stale warning (or the unknown note) in lines; '' when the tuning is up to date. */
export function staleText(check: TuningCheck): string {
  const f = check.freshness;
  if (f.state === 'fresh') return '';
  if (f.state === 'unknown') return `Tuning ${check.sessionId}: ${f.reason ?? 'fingerprint unknown'}; its recommendation is used as stored`;
  return [
    `Warning: tuning ${check.sessionId} is stale — what it measured has changed since:`,
    ...f.changes.map((c) => `  • ${c.text}`),
    `To tune again: ${check.retuneCommand}`,
  ].join('\n');
}

/** What --json adds to the run: `stale` lists the changes (null when there are none), with the command that tunes again. */
function staleJson(check: TuningCheck): Record<string, unknown> {
  const f = check.freshness;
  return {
    tuningFreshness: f,
    stale: f.state === 'stale' ? { sessionId: check.sessionId, changes: f.changes, retuneCommand: check.retuneCommand } : null,
  };
}

/** The run settings the flags name (the service fills in the rest). */
function configFromFlags(opts: Record<string, unknown>): Partial<TrainConfig> {
  return Object.fromEntries(
    Object.entries({
      model: opts.model,
      batchSize: opts.batchSize,
      epochs: opts.epochs,
      learningRate: opts.lr,
      optimizer: opts.optimizer,
      momentum: opts.momentum,
      warmupSteps: opts.warmupSteps,
      backend: opts.backend,
      seed: opts.seed,
      validationsPerEpoch: opts.validationsPerEpoch,
      evalBatchSize: opts.evalBatch,
      microBatchSize: opts.microBatch,
      adaptive: opts.adaptive,
      augment: opts.augment,
    }).filter(([, v]) => v !== undefined),
  ) as Partial<TrainConfig>;
}

/** `train --resume <run>`: the run goes on from its checkpoint; a flag that would change it is refused. */
async function resume(ctx: CliContext, cmd: Command, runId: number, json: boolean): Promise<void> {
  const allowed = new Set(['resume', 'json', 'python']);
  const others = cmd.options
    .filter((o) => cmd.getOptionValueSource(o.attributeName()) === 'cli' && !allowed.has(o.attributeName()))
    .map((o) => o.long ?? o.flags);
  if (others.length) throw new UsageError(`--resume continues run ${runId} with its own settings: leave out ${others.join(', ')}`);
  const api = ctx.api();
  const detail = await followRun(
    api,
    async () => {
      const started = await api.resumeTraining({ runId });
      const { events } = await api.getRun({ runId, maxPoints: 10, misclassifiedLimit: 0 });
      const last = events.at(-1);
      if (!json && last?.kind === 'resumed') process.stderr.write(`${resumedText(runId, last)}\n`);
      return started;
    },
    json,
  );
  reportRun(detail, json);
}

/** One line for a resume: where from, and what was redone. */
export function resumedText(runId: number, e: Extract<RunEvent, { kind: 'resumed' }>): string {
  const redone = e.discardedSteps ? `; the ${e.discardedSteps} step${e.discardedSteps === 1 ? '' : 's'} after it are redone (kept apart)` : '';
  return `Run ${runId}: attempt ${e.attempt} resumes at step ${e.step} (the ${CHECKPOINT_REASON_TEXT[e.checkpoint]} checkpoint, after it ${e.previousStatus})${redone}`;
}

/** The run's resumes and step-downs, and what can be resumed: for `train` and `runs show`. */
export function attemptLines(detail: Pick<RunDetail, 'run' | 'events' | 'discardedSteps' | 'checkpoint'>): string[] {
  const lines = detail.events.map((e) =>
    e.kind === 'batch-adapted'
      ? batchAdaptedText(e)
      : (e.kind === 'resumed' ? resumedText(detail.run.id, e) : batchReducedText(detail.run.id, e)).replace(/^Run \d+: /, ''),
  );
  if (detail.discardedSteps) lines.push(`${detail.discardedSteps} redone step${detail.discardedSteps === 1 ? '' : 's'} kept apart (not in the series)`);
  const c = detail.checkpoint;
  if (c && isResumableStatus(detail.run.status))
    lines.push(`resumable from step ${c.step} (the ${CHECKPOINT_REASON_TEXT[c.reason]} checkpoint): autobatch train --resume ${detail.run.id}`);
  return lines;
}

/** One line for an out-of-memory step-down. */
export function batchReducedText(runId: number, e: Extract<RunEvent, { kind: 'batch-reduced' }>): string {
  const from = e.checkpoint ? `step ${e.step} (the ${CHECKPOINT_REASON_TEXT[e.checkpoint]} checkpoint)` : 'the start (no checkpoint yet)';
  return `Run ${runId}: out of memory (${e.cause}); attempt ${e.attempt} resumes at ${from} with ${batchChangeText(e)}`;
}

/** Prints a finished run (its summary as JSON, or in words) and fails the command if the run did. */
export function reportRun(detail: RunDetail, json: boolean, extra: Record<string, unknown> = {}): void {
  const r = detail.run;
  if (json) printJson({ ...r, events: detail.events, discardedSteps: detail.discardedSteps, checkpoint: detail.checkpoint, ...extra });
  else {
    printRunSummary(r);
    for (const line of attemptLines(detail)) printLine(`  ${line}`);
  }
  if (r.status === 'failed' || r.status === 'interrupted') throw new Error(`run ${r.id} ${r.status}: ${r.error ?? 'no reason given'}`);
}

export function printRunSummary(r: RunSummary): void {
  printLine(
    `Run ${r.id} ${r.status}: ${r.config.model} on "${r.datasetName}", batch ${r.config.batchSize}${r.config.evalBatchSize !== undefined ? ` (evaluation ${r.config.evalBatchSize})` : ''}, lr ${r.config.learningRate} (${r.config.optimizer}), augment ${r.config.augment ?? 'none'}`,
  );
  const accumulation = accumulationText(r.config);
  if (accumulation) printLine(`  ${accumulation}`);
  printLine(`  backend ${r.backend ?? '—'} on ${r.device ?? '—'}`);
  printLine(`  ${r.steps} steps in ${r.trainSeconds?.toFixed(1) ?? '—'} s, ${r.samplesPerSecond ? Math.round(r.samplesPerSecond) : '—'} samples/s`);
  printLine(`  best validation accuracy ${formatPercent(r.bestValAccuracy)}, final ${formatPercent(r.finalValAccuracy)}`);
  if (r.error) printLine(`  ${r.error}`);
}
