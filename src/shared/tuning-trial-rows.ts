// Tunings as data: every trial a search stored, one flat row each with its session's context,
// so that searches can be compared outside the app (a spreadsheet, pandas). The CLI's
// `tunings export`, the API's tuningTrialRows / exportTuningCsv and the Tune screen's export
// all build their rows here.
import type { TuningSummary, TuningTrialRow } from './api/data.js';
import { csvText, type CsvCell } from './csv.js';
import { engineLabel } from './memory-source.js';
import type { TrialRecord } from './tuning-types.js';

/** What a row takes from its session. */
export type TrialRowSession = Pick<
  TuningSummary,
  'id' | 'status' | 'createdAt' | 'datasetId' | 'datasetName' | 'model' | 'mode' | 'backend' | 'rung' | 'device'
>;

/** One session's trials as rows, in the order they were measured. */
export function tuningTrialRows(session: TrialRowSession, trials: readonly TrialRecord[]): TuningTrialRow[] {
  return [...trials]
    .sort((a, b) => a.seq - b.seq)
    .map((t) => ({
      tuningId: session.id,
      tuningStatus: session.status,
      createdAt: session.createdAt,
      datasetId: session.datasetId,
      dataset: session.datasetName,
      model: session.model,
      mode: session.mode,
      engine: session.rung ? engineLabel(session.rung) : null,
      backend: session.backend,
      rung: session.rung,
      device: session.device,
      seq: t.seq,
      kind: t.kind,
      batchSize: t.batchSize,
      learningRate: t.learningRate,
      status: t.status,
      oom: t.status === 'oom',
      cause: t.cause,
      seconds: t.seconds,
      result: { ...t.result },
    }));
}

/** The columns every export has, in order; the measured values follow them. */
export const TRIAL_ROW_COLUMNS = [
  'tuningId',
  'tuningStatus',
  'createdAt',
  'datasetId',
  'dataset',
  'model',
  'mode',
  'engine',
  'backend',
  'rung',
  'device',
  'seq',
  'kind',
  'batchSize',
  'learningRate',
  'status',
  'oom',
  'cause',
  'seconds',
] as const satisfies readonly Exclude<keyof TuningTrialRow, 'result'>[];

/**
 * The measured values' columns: every key the rows' results hold, in the order first met (a
 * memory probe's peakBytes before a throughput probe's samplesPerSecond). A key that is also a
 * fixed column (a result's own `kind`) is named `result_<key>`.
 */
export function measuredColumns(rows: readonly TuningTrialRow[]): { key: string; column: string }[] {
  const fixed = new Set<string>(TRIAL_ROW_COLUMNS);
  const seen = new Set<string>();
  const out: { key: string; column: string }[] = [];
  for (const row of rows) {
    for (const key of Object.keys(row.result)) {
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ key, column: fixed.has(key) ? `result_${key}` : key });
    }
  }
  return out;
}

/** A measured value as one cell: lists and objects (a range test's rates) as JSON. */
function measuredCell(value: unknown): CsvCell {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/** The rows as CSV: the fixed columns, then one per measured value (empty where a trial has none). */
export function tuningTrialsCsv(rows: readonly TuningTrialRow[]): string {
  const measured = measuredColumns(rows);
  const header = [...TRIAL_ROW_COLUMNS, ...measured.map((m) => m.column)];
  const lines = rows.map((row) => [...TRIAL_ROW_COLUMNS.map((c) => row[c]), ...measured.map((m) => measuredCell(row.result[m.key]))]);
  return csvText(header, lines);
}

/** The export's file name: tuning-3-mnist-small-trials.csv, or tunings-trials.csv for all of them. */
export function tuningTrialsFileName(session: Pick<TuningSummary, 'id' | 'datasetName' | 'model'> | null): string {
  const base = session ? `tuning-${session.id}-${session.datasetName}-${session.model}-trials` : 'tunings-trials';
  return `${base.replace(/[^A-Za-z0-9._-]+/g, '_')}.csv`;
}
