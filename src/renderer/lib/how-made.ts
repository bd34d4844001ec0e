// "How this model was made" on a run's page: its settings, the augmentation, the model it started
// from and the Auto-tune session, as rows of label and parts (text, a link, a quieter note). Rows
// for what a run does not have (no start model, augmentation not recorded) are left out. Pure.
import { AUGMENT_DESCRIPTIONS, type StartFrom } from '../../shared/fine-tuning.js';
import type { TrainConfig } from '../../shared/run-types.js';
import { accumulationText, microBatchOf } from '../../shared/accumulation.js';
import type { DistributedRun } from '../../shared/api/data.js';
import { distributedBatchText, distributedWhere } from '../../shared/distributed-run.js';
import { formatSmall, plural } from './format.js';
import { hrefOf } from './route.js';

export interface MadePart {
  text: string;
  href?: string;
  /** Quieter than the value: an explanation. */
  note?: boolean;
  /** A path or an address, shown as code. */
  code?: boolean;
}

export interface MadeRow {
  label: string;
  parts: MadePart[];
}

/** The parts of a run the section reads. */
export interface MadeRun {
  config: TrainConfig;
  /** The backend it ran on, once known. */
  backend: string | null;
  tuningSessionId: number | null;
  /** A run trained elsewhere and imported. */
  distributed?: DistributedRun;
}

export interface MadeLinks {
  /** Whether the Auto-tune session is still stored (else it is named, not linked). */
  tuningExists: boolean;
  /** Whether the run the start model came from is still stored. */
  startRunExists: boolean;
  /** An imported run: whether the run or tuning whose plan it trained with is still stored. */
  originExists?: boolean;
}

const row = (label: string, ...parts: (MadePart | string)[]): MadeRow => ({ label, parts: parts.map((p) => (typeof p === 'string' ? { text: p } : p)) });
const note = (text: string): MadePart => ({ text, note: true });

function settingsRows(run: MadeRun): MadeRow[] {
  const c = run.config;
  return [
    row('Batch size', String(c.batchSize)),
    ...(accumulationText(c) ? [row('Micro-batch', String(microBatchOf(c)), note(`(${accumulationText(c)})`))] : []),
    c.evalBatchSize !== undefined ? row('Evaluation batch', String(c.evalBatchSize)) : row('Evaluation batch', String(c.batchSize), note('(the batch size)')),
    ...(c.adaptive ? [row('Adaptive batch', 'on', note('(the batch follows the measured noise scale: see Attempts and changes)'))] : []),
    row('Epochs', String(c.epochs)),
    row('Learning rate', formatSmall(c.learningRate)),
    row('Optimizer', c.optimizer === 'sgd' ? `sgd (momentum ${c.momentum})` : c.optimizer),
    row('Warm-up', plural(c.warmupSteps, 'step')),
    run.distributed
      ? row('Backend', `${run.distributed.engine} ×${run.distributed.workers}`, note('(trained elsewhere: see below)'))
      : row('Backend', run.backend ?? c.backend, ...(c.backend === 'auto' ? [note('(chosen by auto)')] : [])),
    row('Seed', String(c.seed)),
  ];
}

/** Where the start model came from: the run that made it (linked while it exists), else its source. */
function sourceParts(s: StartFrom, startRunExists: boolean): MadePart[] {
  const runPart = (id: number): MadePart => (startRunExists ? { text: `run ${id}`, href: hrefOf('runs', id) } : { text: `run ${id}` });
  const what = note(`(${s.architecture}, ${plural(s.classes.length, 'class', 'classes')}, ${s.inputShape.join('×')})`);
  if (s.sourceKind === 'run' && s.runId !== undefined) return [runPart(s.runId), ...(startRunExists ? [] : [note('(deleted)')]), what];
  const parts: MadePart[] = [{ text: s.source, code: true }, what];
  if (s.runId !== undefined) parts.push(note('made by'), runPart(s.runId));
  return parts;
}

function startFromRows(s: StartFrom, startRunExists: boolean): MadeRow[] {
  const trained =
    s.unfreeze === 0
      ? row('Blocks trained', `none of ${s.blocks}`, note('(the backbone frozen; only the new classifier trained)'))
      : row('Blocks trained', `the last ${s.unfreeze} of ${s.blocks}`, note('(with the new classifier)'));
  return [
    row('Started from', ...sourceParts(s, startRunExists)),
    trained,
    ...(s.unfreeze > 0 ? [row('Fine-tune learning rate', formatSmall(s.fineTuneLearningRate), note('(the unfrozen blocks)'))] : []),
  ];
}

/** Where an imported run trained, the plan it came from and the file it was read from. */
function distributedRows(d: DistributedRun, originExists: boolean): MadeRow[] {
  const o = d.origin;
  const href = o.kind === 'run' ? hrefOf('runs', o.id) : hrefOf('tune', o.id);
  return [
    row('Trained elsewhere', distributedWhere(d)),
    row(
      'Plan',
      'from the plan of',
      originExists ? { text: `${o.kind} ${o.id}`, href } : `${o.kind} ${o.id}`,
      ...(originExists ? [] : [note('(not stored here)')]),
    ),
    row('Per-worker batch', distributedBatchText(d), ...(d.fromWeights ? [note("(continued from this app's trained weights)")] : [])),
    row('Imported from', { text: d.importedFrom, code: true }, ...(d.partial ? [note('(without its end line: still running or cut off then)')] : [])),
  ];
}

export function howMadeRows(run: MadeRun, links: MadeLinks): MadeRow[] {
  const c = run.config;
  const rows = settingsRows(run);
  if (run.distributed) rows.push(...distributedRows(run.distributed, links.originExists ?? false));
  if (c.augment) rows.push(row('Augmentation', c.augment, ...(c.augment === 'none' ? [] : [note(`(${AUGMENT_DESCRIPTIONS[c.augment]})`)])));
  if (c.startFrom) rows.push(...startFromRows(c.startFrom, links.startRunExists));
  const tuning = run.tuningSessionId;
  if (tuning === null) rows.push(row('Auto-tune', 'not used'));
  else if (links.tuningExists) rows.push(row('Auto-tune', { text: `session ${tuning}`, href: hrefOf('tune', tuning) }));
  else rows.push(row('Auto-tune', `session ${tuning}`, note('(deleted)')));
  return rows;
}

/** A short mark for lists and headings: "fine-tuned from run 2" / "fine-tuned", or null. */
export function fineTunedMark(config: Pick<TrainConfig, 'startFrom'>): string | null {
  const s = config.startFrom;
  if (!s) return null;
  return s.runId !== undefined ? `fine-tuned from run ${s.runId}` : 'fine-tuned';
}

/** The start model in a sentence: "run 2's model", "the model in /data/pets-model". */
export function startFromText(s: StartFrom): string {
  if (s.sourceKind === 'run' && s.runId !== undefined) return `run ${s.runId}'s model`;
  return s.sourceKind === 'url' ? `the model at ${s.source}` : `the model in ${s.source}`;
}
