// Problem reports of an import: which file (and row) is bad and what was expected.
// Problems are either "bad inputs" (a file, a row, a sample, an empty or too small class) that
// options.skipBad may leave out, or fatal ones (unreadable source, bad IDX header, fewer than
// two classes…) that no skipping can fix.
import type { ImportOptions, ImportProblem } from '../../../shared/dataset-types.js';
import { moreProblems } from '../../../shared/problem-summary.js';

/** At most this many problems are listed; the rest are counted in one closing entry. */
export const MAX_LISTED_PROBLEMS = 1000;

function formatProblem(p: ImportProblem): string {
  const where = p.row !== undefined ? `${p.file}, row ${p.row}` : p.file;
  return where ? `${where}: ${p.reason}` : p.reason;
}

/** Thrown by importDataset for any problem with the input; never for a bug. */
export class DatasetImportError extends Error {
  /** The problems found (at most MAX_LISTED_PROBLEMS, plus one entry counting the rest). */
  readonly problems: ImportProblem[];
  /** How many problems were found beyond those listed. */
  readonly omitted: number;
  /** The import option at fault (a label column that is not there, a limit too small to keep every class); undefined: the source's data. */
  readonly option: keyof ImportOptions | undefined;

  constructor(message: string, problems: ImportProblem[], omitted = 0, option?: keyof ImportOptions) {
    super(message);
    this.name = 'DatasetImportError';
    this.problems = problems;
    this.omitted = omitted;
    this.option = option;
  }
}

/** A bad import option (or combination of options), named in the error for the caller to point at. */
export function optionsError(option: keyof ImportOptions, reason: string): DatasetImportError {
  return new DatasetImportError(`Invalid import options: ${reason}`, [{ file: 'options', reason }], 0, option);
}

export type InputUnit = 'file' | 'row' | 'sample';

export class ProblemLog {
  private readonly listed: ImportProblem[] = [];
  /** All problems found, listed or not. */
  total = 0;
  /** Problems about inputs that skipBad can leave out. */
  badInputs = 0;
  /** Of those, the ones that are no input themselves (an empty class folder): not "bad files". */
  badWithoutInputs = 0;
  /** Problems that always fail the import. */
  fatalCount = 0;
  /** Inputs (files, rows, samples) left out because of problems. */
  leftOut = 0;
  private firstFatal: ImportProblem | undefined;
  private firstBad: ImportProblem | undefined;

  /** `source` names the import in messages; `unit` is what one bad input is. */
  constructor(
    readonly source: string,
    public unit: InputUnit = 'file',
  ) {}

  private push(p: ImportProblem): void {
    this.total++;
    if (this.listed.length < MAX_LISTED_PROBLEMS) this.listed.push(p);
  }

  /** A bad input that skipBad leaves out; `inputs` is how many inputs that drops (0 for an empty class). */
  bad(p: ImportProblem, inputs = 1): void {
    this.push(p);
    this.badInputs++;
    if (inputs === 0) this.badWithoutInputs++;
    this.leftOut += inputs;
    this.firstBad ??= p;
  }

  /** Records a fatal problem (the import will fail). */
  fatal(p: ImportProblem): void {
    this.push(p);
    this.fatalCount++;
    this.firstFatal ??= p;
  }

  /** Records a fatal problem and throws the import's error at once; `option` names the import option at fault, if one is. */
  fail(p: ImportProblem, option?: keyof ImportOptions): never {
    this.fatal(p);
    throw this.error(option);
  }

  /** The listed problems, plus one entry counting those beyond the list. */
  problems(): ImportProblem[] {
    const out = this.listed.slice();
    const omitted = this.total - this.listed.length;
    if (omitted > 0) out.push(moreProblems(omitted));
    return out;
  }

  /**
   * The error to throw: fatal if any fatal problem, else "N bad files … (use --skip-bad …)"
   * ("3 bad files and 1 other problem …" when some, like an empty class folder, are no input).
   */
  error(option?: keyof ImportOptions): DatasetImportError {
    const omitted = this.total - this.listed.length;
    let message: string;
    if (this.fatalCount > 0 && this.firstFatal) {
      const rest = this.total - 1;
      message = `Cannot import ${this.source}: ${formatProblem(this.firstFatal)}` + (rest > 0 ? ` (and ${rest} more problem${rest === 1 ? '' : 's'})` : '');
    } else {
      const n = this.badInputs;
      const inputs = n - this.badWithoutInputs;
      const others = this.badWithoutInputs;
      const counted = [
        ...(inputs > 0 ? [`${inputs} bad ${this.unit}${inputs === 1 ? '' : 's'}`] : []),
        ...(others > 0 ? [`${others} ${inputs > 0 ? 'other ' : ''}problem${others === 1 ? '' : 's'}`] : []),
      ].join(' and ');
      const first = this.firstBad ?? { file: '', reason: 'unknown problem' };
      message = `${counted} in ${this.source} (use --skip-bad to leave them out): ` + formatProblem(first) + (n > 1 ? `; and ${n - 1} more` : '');
    }
    return new DatasetImportError(message, this.problems(), omitted, option);
  }
}

/** Plain words for an unexpected error (fs errors keep their code). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const msg = err.message.replace(/\s+/g, ' ').trim();
    return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
  }
  return String(err);
}
