// What Tune and Train say beside the model choice: the chosen model's trainable parameters at the
// chosen dataset's input (from the API's listArchitectures), and what the model is; and which
// model to keep selected when the dataset changes. Pure (unit-tested from test/unit/renderer).
import type { ArchitectureList } from '../../shared/api/index.js';
import type { ModelKind } from '../../shared/run-types.js';
import { formatCount, formatInputShape, plural } from '../../shared/format.js';

/** One line about `model` at the list's input: its size (or why it does not fit), then what it is. */
export function modelSizeText(list: ArchitectureList, model: ModelKind): string {
  const a = list.models.find((m) => m.model === model);
  if (!a) return '';
  if (a.trainableParameters === null) return `Does not fit this dataset: ${a.problem ?? 'its input does not suit this model'}.`;
  const at = `${formatInputShape(list.inputShape)}, ${plural(list.classes, 'class', 'classes')}`;
  return `${formatCount(a.trainableParameters)} trainable parameters (${a.trainableParameters.toLocaleString('en-US')}) at ${at} — ${a.description}.`;
}

/** Whether `model` fits the list's dataset; every model counts as fitting until the list is known. */
export function modelFits(list: ArchitectureList | null, model: ModelKind): boolean {
  return list === null || list.models.some((a) => a.model === model && a.fits);
}

/** The model to keep selected: `current` if it fits the dataset, else the first that does (else `current`). */
export function fittingModel(list: ArchitectureList, current: ModelKind): ModelKind {
  if (modelFits(list, current)) return current;
  return list.models.find((a) => a.fits)?.model ?? current;
}
