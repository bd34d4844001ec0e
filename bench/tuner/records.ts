// The Auto-tune benchmark's raw results: one JSON line per measurement, appended as it ends, in
// `<out>/<workload>-<backend>.jsonl`. A rerun with the same --out skips what a file already holds
// (resumable), and `npm run bench:report` builds every table from these lines alone.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const finite = z.number().finite();
const epochPoint = z.strictObject({ epoch: z.number().int().min(1), time: finite.min(0), valAccuracy: finite });

/** A training run as the runner saw it end. */
const runFields = {
  batch: z.number().int().min(1),
  rate: z.number().positive(),
  warmupSteps: z.number().int().min(0),
  status: z.string(),
  error: z.string().nullable(),
  epochs: z.array(epochPoint),
  /** Training seconds when the run ended (at the target, or after its last epoch). */
  endTime: finite.min(0),
  /** Training seconds per epoch, one validation included (median over its epochs). */
  epochSeconds: z.number().nullable(),
  rung: z.string().nullable(),
  device: z.string().nullable(),
};

export const TIMED_SETTINGS = ['quick', 'full', 'a', 'b', 'b-linear', 'c', 'c-log', 'oracle'] as const;
export type TimedSetting = (typeof TIMED_SETTINGS)[number];

export const benchRecordSchema = z.discriminatedUnion('kind', [
  /** What the measurements belong to; a resumed run must agree with it. */
  z.strictObject({
    kind: z.literal('meta'),
    workload: z.string(),
    backend: z.string(),
    model: z.string(),
    samples: z.number().int(),
    trainCount: z.number().int(),
    validationCount: z.number().int(),
    maxEpochs: z.number().int(),
    pickSeeds: z.array(z.number().int()),
    timedSeeds: z.array(z.number().int()),
    appVersion: z.string(),
    machine: z.string(),
    date: z.string(),
    /** The commit of the code measured (with "+changes" when the working tree differed); null outside a git checkout. */
    commit: z.string().nullable().optional(),
    /** The results file whose ceiling, grid and oracle this run took over (they do not depend on the search): only the timed runs are new. */
    gridFrom: z.string().optional(),
  }),
  /** The memory ceiling the grid stops at, from one Quick search that is not timed. */
  z.strictObject({ kind: z.literal('ceiling'), memoryCeiling: z.number().int().min(1), rung: z.string().nullable(), device: z.string().nullable() }),
  /** One grid setting on one picking seed, trained for the maximum epochs. */
  z.strictObject({ kind: z.literal('grid'), seed: z.number().int(), k: z.number().int(), ...runFields }),
  /** The target and the oracle, fixed from the grid before anything is timed. */
  z.strictObject({
    kind: z.literal('oracle'),
    target: finite,
    bestGridAccuracy: finite,
    batch: z.number().int(),
    rate: z.number().positive(),
    k: z.number().int(),
    /** The oracle's median seconds to the target on the picking seeds. */
    pickSeconds: finite,
  }),
  /** One setting timed to the target on one fresh seed, its search (if any) counted. */
  z.strictObject({
    kind: z.literal('timed'),
    seed: z.number().int(),
    setting: z.enum(TIMED_SETTINGS),
    target: finite,
    /** Seconds its choice took to make (the tuner's search, the LR finder's ramp); 0 for fixed settings. */
    searchSeconds: finite.min(0),
    /** What the choice was and why, in words (the tuner's pick, the finder's suggestion, a batch that did not fit). */
    note: z.string(),
    ...runFields,
  }),
]);
export type BenchRecord = z.infer<typeof benchRecordSchema>;
export type GridRecord = Extract<BenchRecord, { kind: 'grid' }>;
export type TimedRecord = Extract<BenchRecord, { kind: 'timed' }>;
export type OracleRecord = Extract<BenchRecord, { kind: 'oracle' }>;
export type MetaRecord = Extract<BenchRecord, { kind: 'meta' }>;

/** Reads a results file (a missing one is empty); a line that is not a record names the file and line. */
export function readRecords(file: string): BenchRecord[] {
  if (!existsSync(file)) return [];
  const out: BenchRecord[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        throw new Error(`${file}:${i + 1}: not JSON`);
      }
      const r = benchRecordSchema.safeParse(raw);
      if (!r.success)
        throw new Error(`${file}:${i + 1}: not a benchmark record (${r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')})`);
      out.push(r.data);
    });
  return out;
}

/** A results file: what it holds, and appending (checked) as measurements end. */
export class RecordFile {
  readonly records: BenchRecord[];
  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.records = readRecords(file);
  }

  add(record: BenchRecord): void {
    const checked = benchRecordSchema.parse(record);
    appendFileSync(this.file, JSON.stringify(checked) + '\n');
    this.records.push(checked);
  }

  of<K extends BenchRecord['kind']>(kind: K): Extract<BenchRecord, { kind: K }>[] {
    return this.records.filter((r): r is Extract<BenchRecord, { kind: K }> => r.kind === kind);
  }
}

/** The records that fix the target and the oracle (meta aside): what --grid-from carries over. */
export const GRID_KINDS = ['ceiling', 'grid', 'oracle'] as const;

/** The file of one workload on one backend. */
export function resultsFile(outDir: string, workload: string, backend: string): string {
  return path.join(outDir, `${workload}-${backend}.jsonl`);
}
