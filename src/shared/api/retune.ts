// "Tune again" for a stale tuning (issue 20): the search it ran, asked for again — as startTuning's
// params (the UI's button) and as the `autobatch tune` command line (the CLI's warning), made from
// one place so both repeat the same search. A previous tuning never stands in (reuseKnown false):
// the point is to measure afresh what has changed.
import type { TuningRequest } from '../tuning-types.js';
import type { ValidParamsOf } from './contract.js';

export type RetuneParams = ValidParamsOf<'startTuning'>;

/** The changes a caller made when it used the tuning (another dataset, model, augmentation or backend). */
export interface RetuneOverrides {
  dataset?: number | string;
  model?: RetuneParams['model'];
  augment?: RetuneParams['augment'];
  backend?: RetuneParams['backend'];
}

/** startTuning's params that search as `request` did, on `datasetId`, with the caller's changes. */
export function retuneParams(datasetId: number, request: TuningRequest, overrides: RetuneOverrides = {}): RetuneParams {
  const from = request.startFrom;
  const model = overrides.model ?? (from || request.model === 'imported' ? undefined : request.model);
  const augment = overrides.augment ?? request.augment;
  return {
    dataset: overrides.dataset ?? datasetId,
    ...(model !== undefined ? { model } : {}),
    ...(from && overrides.model === undefined
      ? { startFrom: { source: from.source, unfreeze: from.unfreeze, fineTuneLearningRate: from.fineTuneLearningRate } }
      : {}),
    mode: request.mode,
    backend: overrides.backend ?? request.backend,
    optimizer: request.optimizer,
    ...(request.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: request.memoryBudgetBytes } : {}),
    plannedEpochs: request.plannedEpochs,
    ...(request.budgetSeconds !== undefined ? { budgetSeconds: request.budgetSeconds } : {}),
    reuseKnown: false,
    baseBatchSize: request.baseBatchSize,
    baseLearningRate: request.baseLearningRate,
    ...(request.searchLearningRate === false ? { searchLearningRate: false } : {}),
    ...(augment !== undefined ? { augment } : {}),
    seed: request.seed,
  };
}

/** A shell word: left bare when it is safe, else in single quotes. */
function word(value: string | number): string {
  const s = String(value);
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The `autobatch tune` command line for these params (flags of src/main/cli/commands/tune.ts). */
export function retuneCommand(p: RetuneParams): string {
  const flags: [string, string | number | undefined][] = [
    ['--dataset', p.dataset],
    ['--model', p.model],
    ['--from-model', p.startFrom?.source],
    ['--unfreeze', p.startFrom?.unfreeze],
    ['--fine-tune-lr', p.startFrom?.fineTuneLearningRate],
    ['--mode', p.mode],
    ['--backend', p.backend],
    ['--optimizer', p.optimizer],
    ['--memory-budget', p.memoryBudgetBytes !== undefined ? Math.round(p.memoryBudgetBytes) : undefined],
    ['--epochs', p.plannedEpochs],
    ['--budget', p.budgetSeconds !== undefined ? `${Math.round(p.budgetSeconds)}s` : undefined],
    ['--base-batch', p.baseBatchSize],
    ['--base-lr', p.baseLearningRate],
    ['--augment', p.augment],
  ];
  const parts = ['autobatch tune', ...flags.filter(([, v]) => v !== undefined).map(([f, v]) => `${f} ${word(v!)}`)];
  if (p.searchLearningRate === false) parts.push('--no-lr-search');
  if (p.reuseKnown === false) parts.push('--no-reuse');
  return parts.join(' ');
}
