// --from-model, --unfreeze and --fine-tune-lr, shared by `train` and `tune`, and the start model
// in words for the run header and `runs show`.
import path from 'node:path';
import type { Command } from 'commander';
import { FINE_TUNE_RATE_FACTOR, type StartFrom, type StartFromRequest } from '../../shared/fine-tuning.js';
import { UsageError } from './main.js';
import { positiveNumber, wholeNumber } from './parse-flags.js';

export function addStartModelOptions(cmd: Command): Command {
  return cmd
    .option(
      '--from-model <source>',
      "start from a trained model: a run id, a folder holding model.json, a model.json file, or an http(s) address of one (its backbone, frozen, with a new classifier for this dataset's classes)",
    )
    .option('--unfreeze <n>', 'with --from-model: train the last N blocks of its backbone too (default 0: only the new classifier)', wholeNumber(0, 1000))
    .option(
      '--fine-tune-lr <rate>',
      `with --from-model: learning rate of the unfrozen blocks (default ${FINE_TUNE_RATE_FACTOR} × the rate)`,
      positiveNumber(10),
    );
}

/**
 * The start model the flags name, or undefined. A path is made absolute here: the service may
 * run elsewhere than this shell's folder.
 */
export function startFromFlags(opts: { fromModel?: string; unfreeze?: number; fineTuneLr?: number }): StartFromRequest | undefined {
  if (opts.fromModel === undefined) {
    const stray = [opts.unfreeze !== undefined && '--unfreeze', opts.fineTuneLr !== undefined && '--fine-tune-lr'].filter(Boolean);
    if (stray.length) throw new UsageError(`${stray.join(' and ')} need${stray.length === 1 ? 's' : ''} --from-model`);
    return undefined;
  }
  const named = opts.fromModel.trim();
  if (named === '') throw new UsageError('--from-model needs a run id, a folder, a model.json file or an address');
  const source = /^\d+$/.test(named) || /^[a-z][a-z0-9+.-]*:\/\//i.test(named) ? named : path.resolve(named);
  return {
    source,
    ...(opts.unfreeze !== undefined ? { unfreeze: opts.unfreeze } : {}),
    ...(opts.fineTuneLr !== undefined ? { fineTuneLearningRate: opts.fineTuneLr } : {}),
  };
}

/** "resnet-8 from run 3: 2 of 9 blocks trained at lr 0.0001" — one line. */
export function startFromText(s: StartFrom): string {
  const from = s.sourceKind === 'run' ? `run ${s.runId}` : s.source;
  const made = s.sourceKind !== 'run' && s.runId !== undefined ? ` (made by run ${s.runId})` : '';
  const trained =
    s.unfreeze === 0
      ? `backbone frozen (${s.blocks} blocks)`
      : `last ${s.unfreeze} of ${s.blocks} blocks trained at lr ${Number(s.fineTuneLearningRate.toPrecision(3))}`;
  return `${s.architecture} from ${from}${made}: ${trained}`;
}
