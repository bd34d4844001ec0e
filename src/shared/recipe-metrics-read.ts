// Reads a distributed recipe's metrics file (recipe-metrics.ts) back: every line checked with the
// format's schema, then the order the recipe writes them in (one 'start' line, steps and epochs
// going forward, one 'end' line, nothing after it). Every problem is one RecipeMetricsError that
// names the file, the line and the field, and says what was expected; the first one found is
// reported, since a user fixes (or re-runs) from there. Pure: the service reads the bytes.
//
// A file without its 'end' line — or whose last line is cut off mid-write (no newline after it,
// not JSON) — is a run that was still running or was killed: refused as `unfinished`, unless the
// caller asks for `partial`, which keeps the complete lines and leaves the cut-off one out.
import type { z } from 'zod';
import { decodeJsonLine } from './json-lines.js';
import {
  recipeEndLineSchema,
  recipeEpochLineSchema,
  recipeStartLineSchema,
  recipeStepLineSchema,
  type RecipeEndLine,
  type RecipeEpochLine,
  type RecipeStartLine,
  type RecipeStepLine,
} from './recipe-metrics.js';
import { describeSchemaError, schemaErrorField } from './schema-errors.js';

export interface RecipeMetrics {
  start: RecipeStartLine;
  steps: RecipeStepLine[];
  epochs: RecipeEpochLine[];
  /** null: the file has no 'end' line (read with `partial`). */
  end: RecipeEndLine | null;
  /** The cut-off last line left out (read with `partial`), or null. */
  cutOffLine: number | null;
}

/** What went wrong: `unfinished` files (no end line, a cut-off last line) can be read with `partial`. */
export class RecipeMetricsError extends Error {
  constructor(
    readonly file: string,
    /** 1-based; null for the file as a whole (an empty file). */
    readonly line: number | null,
    /** The field at fault, dotted ('settings.workers'); null when the line as a whole is. */
    readonly field: string | null,
    readonly detail: string,
    readonly unfinished = false,
  ) {
    super(`${file}${line === null ? '' : `, line ${line}`}: ${field === null ? '' : `${field}: `}${detail}`);
    this.name = 'RecipeMetricsError';
  }
}

const KINDS = ['start', 'step', 'epoch', 'end'] as const;
type Kind = (typeof KINDS)[number];
const SCHEMAS: { [K in Kind]: z.ZodType } = {
  start: recipeStartLineSchema,
  step: recipeStepLineSchema,
  epoch: recipeEpochLineSchema,
  end: recipeEndLineSchema,
};

/** How to continue with what the file has: the same words on every client. */
export const PARTIAL_HINT = 'import it with --partial (partial: true in the API) to store what it has as an interrupted run';

interface NumberedLine {
  n: number;
  text: string;
}

function linesOf(text: string): { lines: NumberedLine[]; endsWithNewline: boolean } {
  const raw = text.split('\n');
  const lines: NumberedLine[] = [];
  raw.forEach((t, i) => {
    const line = t.endsWith('\r') ? t.slice(0, -1) : t;
    if (line.trim() !== '') lines.push({ n: i + 1, text: line });
  });
  return { lines, endsWithNewline: text.endsWith('\n') };
}

/** Reads and checks the text of one metrics file; `file` names it in every message. */
export function parseRecipeMetrics(text: string, file: string, options: { partial?: boolean } = {}): RecipeMetrics {
  const { lines, endsWithNewline } = linesOf(text);
  if (lines.length === 0)
    throw new RecipeMetricsError(file, null, null, "the file is empty: expected a 'start' line, then 'step' and 'epoch' lines, then an 'end' line");
  const reader = new Reader(file);
  let cutOffLine: number | null = null;
  for (const [i, line] of lines.entries()) {
    let value: unknown;
    try {
      value = decodeJsonLine(line.text);
    } catch (err) {
      const last = i === lines.length - 1 && !endsWithNewline;
      if (!last) throw new RecipeMetricsError(file, line.n, null, `not JSON (${(err as Error).message}): expected one JSON object per line`);
      if (!options.partial) {
        throw new RecipeMetricsError(
          file,
          line.n,
          null,
          `the last line is cut off (not JSON, no newline after it): the run looks unfinished — still running, or cut off; ${PARTIAL_HINT}`,
          true,
        );
      }
      cutOffLine = line.n;
      break;
    }
    reader.take(line.n, value);
  }
  return { ...reader.finish(options.partial ?? false), cutOffLine };
}

/** Checks each line as it comes, against the schema and against the lines before it. */
class Reader {
  private start: RecipeStartLine | null = null;
  private readonly steps: RecipeStepLine[] = [];
  private readonly epochs: RecipeEpochLine[] = [];
  private end: { line: RecipeEndLine; n: number } | null = null;
  private lastStepLine = 0;
  private lastEpochLine = 0;

  constructor(private readonly file: string) {}

  private fail(n: number, field: string | null, detail: string): never {
    throw new RecipeMetricsError(this.file, n, field, detail);
  }

  take(n: number, value: unknown): void {
    const kind = kindOf(value);
    if (kind === undefined) {
      const found = typeof value === 'object' && value !== null && 'kind' in value ? JSON.stringify((value as { kind: unknown }).kind) : 'none';
      this.fail(n, 'kind', `expected "start", "step", "epoch" or "end", found ${found}`);
    }
    const parsed = SCHEMAS[kind].safeParse(value);
    if (!parsed.success) {
      const field = schemaErrorField(parsed.error) ?? null;
      const said = describeSchemaError(parsed.error);
      // The message names the field once, up front.
      this.fail(n, field, `${field !== null && said.startsWith(`${field}: `) ? said.slice(field.length + 2) : said} (in a "${kind}" line)`);
    }
    if (this.end) this.fail(n, 'kind', `nothing may follow the "end" line (line ${this.end.n}), found a "${kind}" line`);
    if (kind === 'start') return this.takeStart(n, parsed.data as RecipeStartLine);
    if (!this.start) this.fail(n, 'kind', `expected the "start" line first, found a "${kind}" line`);
    if (kind === 'step') return this.takeStep(n, parsed.data as RecipeStepLine, this.start);
    if (kind === 'epoch') return this.takeEpoch(n, parsed.data as RecipeEpochLine, this.start);
    this.takeEnd(n, parsed.data as RecipeEndLine);
  }

  private takeStart(n: number, s: RecipeStartLine): void {
    if (this.start) this.fail(n, 'kind', 'a second "start" line: one file holds one run');
    const p = s.settings;
    if (p.globalBatch !== p.workers * p.perWorkerBatch)
      this.fail(
        n,
        'settings.globalBatch',
        `expected workers × perWorkerBatch = ${p.workers} × ${p.perWorkerBatch} = ${p.workers * p.perWorkerBatch}, found ${p.globalBatch}`,
      );
    if (p.microBatch > p.perWorkerBatch) this.fail(n, 'settings.microBatch', `expected at most perWorkerBatch (${p.perWorkerBatch}), found ${p.microBatch}`);
    if (s.world.size !== p.workers)
      this.fail(
        n,
        'world.size',
        `the script ran on ${s.world.size} process${s.world.size === 1 ? '' : 'es'}, but the plan is for ${p.workers} workers (settings.workers): run it with torchrun --nproc-per-node ${p.workers}`,
      );
    this.start = s;
  }

  private takeStep(n: number, s: RecipeStepLine, start: RecipeStartLine): void {
    const prev = this.steps[this.steps.length - 1];
    if (prev && s.step <= prev.step)
      this.fail(n, 'step', `the steps are out of order: expected a step after ${prev.step} (line ${this.lastStepLine}), found ${s.step}`);
    if (prev && s.epoch < prev.epoch)
      this.fail(n, 'epoch', `the epochs go backwards: step ${prev.step} (line ${this.lastStepLine}) was in epoch ${prev.epoch}, this one in ${s.epoch}`);
    if (prev && s.time < prev.time) this.fail(n, 'time', `time goes backwards: ${s.time} s after ${prev.time} s (line ${this.lastStepLine})`);
    if (s.epoch > start.settings.epochs) this.fail(n, 'epoch', `expected at most ${start.settings.epochs} (settings.epochs), found ${s.epoch}`);
    this.steps.push(s);
    this.lastStepLine = n;
  }

  private takeEpoch(n: number, e: RecipeEpochLine, start: RecipeStartLine): void {
    const prev = this.epochs[this.epochs.length - 1];
    if (prev && e.epoch <= prev.epoch)
      this.fail(n, 'epoch', `the epochs are out of order: expected an epoch after ${prev.epoch} (line ${this.lastEpochLine}), found ${e.epoch}`);
    if (prev && e.step <= prev.step)
      this.fail(n, 'step', `expected a step after ${prev.step}, where epoch ${prev.epoch} ended (line ${this.lastEpochLine}), found ${e.step}`);
    if (e.epoch > start.settings.epochs) this.fail(n, 'epoch', `expected at most ${start.settings.epochs} (settings.epochs), found ${e.epoch}`);
    this.epochs.push(e);
    this.lastEpochLine = n;
  }

  private takeEnd(n: number, e: RecipeEndLine): void {
    const last = this.steps[this.steps.length - 1];
    if (last && e.steps < last.step)
      this.fail(n, 'steps', `expected at least ${last.step}, the last step line's (line ${this.lastStepLine}), found ${e.steps}`);
    this.end = { line: e, n };
  }

  finish(partial: boolean): Omit<RecipeMetrics, 'cutOffLine'> {
    const start = this.start!; // take() refuses any line before it, and an empty file is refused before
    const lastLine = Math.max(1, this.lastStepLine, this.lastEpochLine);
    if (!this.end && !partial) {
      throw new RecipeMetricsError(
        this.file,
        lastLine,
        null,
        `no "end" line after this one: the run looks unfinished — still running, or cut off (${this.steps.length} step line${this.steps.length === 1 ? '' : 's'} so far); ${PARTIAL_HINT}`,
        true,
      );
    }
    if (this.steps.length === 0) this.fail(this.end?.n ?? lastLine, null, 'no "step" line: the file records no training to import');
    return { start, steps: this.steps, epochs: this.epochs, end: this.end?.line ?? null };
  }
}

function kindOf(value: unknown): Kind | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const kind = (value as { kind?: unknown }).kind;
  return (KINDS as readonly unknown[]).includes(kind) ? (kind as Kind) : undefined;
}
