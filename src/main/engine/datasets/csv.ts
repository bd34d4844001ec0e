// CSV / TSV: one label column, every other column a numeric feature (float32).
//
//  - delimiter: ',' for .csv and tab for .tsv, unless the first line has none of it but has
//    tabs, commas or semicolons;
//  - label column: options.labelColumn (a header name, or a 0-based index written in digits),
//    else the first column named label / class / target / y (case-insensitive), else the last;
//  - header: the first row is a header if any of its would-be feature cells is not a number (or
//    the label column was found by name in it);
//  - numbers: plain decimals (1, -2.5, .5, 1e-3); empty cells, NaN, Infinity and hex are bad.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse';
import type { CsvError, Info } from 'csv-parse';
import { describeError } from './problems.js';
import type { ImportOptions } from '../../../shared/dataset-types.js';
import type { ProblemLog } from './problems.js';
import type { ImporterContext, RawDataset } from './types.js';
import { parseNumber, sortClassNames } from './util.js';

const DEFAULT_LABEL_NAMES = ['label', 'class', 'target', 'y'];
const FLOAT32_MAX = 3.4028234663852886e38;

/** Counts a delimiter in the first line, outside double quotes. */
function countOutsideQuotes(line: string, ch: string): number {
  let n = 0;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === ch && !quoted) n++;
  }
  return n;
}

export function chooseDelimiter(firstLine: string, ext: string): string {
  const preferred = ext === '.tsv' || ext === '.tab' ? '\t' : ',';
  if (countOutsideQuotes(firstLine, preferred) > 0) return preferred;
  let best = preferred;
  let bestN = 0;
  for (const d of [',', '\t', ';']) {
    const n = countOutsideQuotes(firstLine, d);
    if (n > bestN) {
      best = d;
      bestN = n;
    }
  }
  return best;
}

async function readFirstLine(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    const end = text.search(/\r?\n/);
    return end < 0 ? text : text.slice(0, end);
  } finally {
    await fh.close();
  }
}

function quoteCell(cell: string): string {
  const s = cell.length > 40 ? `${cell.slice(0, 40)}…` : cell;
  return JSON.stringify(s);
}

function countNewlines(record: string[]): number {
  let n = 0;
  for (const f of record) for (let i = f.indexOf('\n'); i >= 0; i = f.indexOf('\n', i + 1)) n++;
  return n;
}

export async function importCsv(ctx: ImporterContext): Promise<RawDataset> {
  const { source: file, log } = ctx;
  log.unit = 'row';
  const name = path.basename(file);
  const { size, delimiter } = await sniff(file, name, log);
  const table = new CsvTable(name, ctx.options, log, delimiter);
  await readRecords(ctx, { file, name, size, delimiter }, (record, row) => table.add(record, row));
  table.checkNotEmpty();
  const raw = table.dataset();
  ctx.progress('decoding', size, size);
  return raw;
}

/** The file's size and its delimiter, from its first line. */
async function sniff(file: string, name: string, log: ProblemLog): Promise<{ size: number; delimiter: string }> {
  try {
    const size = (await stat(file)).size;
    return { size, delimiter: chooseDelimiter(await readFirstLine(file), path.extname(file).toLowerCase()) };
  } catch (err) {
    failUnreadable(log, name, err);
  }
}

function csvParser(delimiter: string, name: string, log: ProblemLog) {
  return parse({
    bom: true,
    delimiter,
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err: CsvError | undefined) => {
      log.bad({ file: name, row: typeof err?.lines === 'number' ? err.lines : undefined, reason: `malformed CSV: ${err?.message ?? 'unreadable record'}` });
      return undefined;
    },
  });
}

/** Streams the file's records, each with its 1-based row (where the record starts), reporting progress. */
async function readRecords(
  ctx: ImporterContext,
  source: { file: string; name: string; size: number; delimiter: string },
  onRecord: (record: string[], row: number) => void,
): Promise<void> {
  const { file, name, size } = source;
  const parser = csvParser(source.delimiter, name, ctx.log);
  const input = createReadStream(file);
  let bytes = 0;
  input.on('data', (chunk) => {
    bytes += chunk.length;
    ctx.progress('decoding', Math.min(bytes, size), size);
  });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      const { record, info } = item;
      onRecord(record, info.lines - countNewlines(record));
    }
  } catch (err) {
    if (err instanceof Error && err.name === 'DatasetImportError') throw err;
    failUnreadable(ctx.log, name, err);
  } finally {
    input.destroy();
  }
}

function failUnreadable(log: ProblemLog, name: string, err: unknown): never {
  return log.fail({ file: name, reason: `cannot read the file: ${describeError(err)}` });
}

/**
 * The label column of a first row: options.labelColumn as a 0-based index or a header name, else
 * the first column named label / class / target / y, else the last. byName: found by its name,
 * so the row is a header.
 */
function findLabelColumn(record: string[], labelColumn: string | undefined, name: string, log: ProblemLog): { index: number; byName: boolean } {
  const ncols = record.length;
  const lc = labelColumn?.trim();
  if (lc !== undefined && lc !== '' && /^\d+$/.test(lc)) {
    const index = Number(lc);
    if (index >= ncols) log.fail({ file: name, reason: `label column ${lc} does not exist: the file has ${ncols} columns (0–${ncols - 1})` }, 'labelColumn');
    return { index, byName: false };
  }
  if (lc) {
    let index = record.findIndex((c) => c.trim() === lc);
    if (index < 0) index = record.findIndex((c) => c.trim().toLowerCase() === lc.toLowerCase());
    if (index < 0) {
      // Would the row be a header with the label in its default place (last)?
      const isHeader = record.slice(0, -1).some((c) => parseNumber(c) === undefined);
      log.fail(
        {
          file: name,
          reason: isHeader
            ? `label column ${JSON.stringify(lc)} does not exist; the columns are: ${record.map((c) => c.trim()).join(', ')}`
            : `label column ${JSON.stringify(lc)} does not exist: the first row holds numbers, not column names, so give the label column by 0-based index`,
        },
        'labelColumn',
      );
    }
    return { index, byName: true };
  }
  for (const nm of DEFAULT_LABEL_NAMES) {
    const index = record.findIndex((c) => c.trim().toLowerCase() === nm);
    if (index >= 0) return { index, byName: true };
  }
  return { index: ncols - 1, byName: false };
}

/** The rows read so far: features (float32, row-major), label ids in order of appearance, source rows. */
class CsvTable {
  private ncols = 0;
  private labelIdx = -1;
  private header: string[] | null = null;
  private featureCount = 0;
  private cap = 1024;
  private x = new Float32Array(0);
  private ids = new Uint32Array(this.cap);
  private rows = new Uint32Array(this.cap);
  private n = 0;
  private readonly labelIds = new Map<string, number>();
  private readonly labelNames: string[] = [];
  private first = true;

  constructor(
    private readonly name: string,
    private readonly options: ImportOptions,
    private readonly log: ProblemLog,
    private readonly delimiter: string,
  ) {}

  /** One record: the first one may be a header. */
  add(record: string[], row: number): void {
    if (this.first) {
      this.first = false;
      this.start(record, row);
    } else {
      this.addRow(record, row);
    }
  }

  /** The first record: the column count, the label column, and whether it is a header. */
  private start(record: string[], row: number): void {
    const ncols = (this.ncols = record.length);
    if (ncols < 2) {
      const separator = this.delimiter === '\t' ? 'tabs' : JSON.stringify(this.delimiter);
      this.log.fail({ file: this.name, row, reason: `expected at least 2 columns (features and a label) separated by ${separator}, found ${ncols}` });
    }
    const { index, byName } = findLabelColumn(record, this.options.labelColumn, this.name, this.log);
    this.labelIdx = index;
    this.featureCount = ncols - 1;
    this.x = new Float32Array(this.cap * this.featureCount);
    const isHeader = byName || record.some((c, i) => i !== index && parseNumber(c) === undefined);
    if (isHeader) this.header = record;
    else this.addRow(record, row);
  }

  private colName(i: number): string {
    return this.header ? `column ${JSON.stringify(this.header[i]!.trim())}` : `column ${i}`;
  }

  private labelName(): string {
    return this.header ? `label column ${JSON.stringify(this.header[this.labelIdx]!.trim())}` : `label column ${this.labelIdx}`;
  }

  private addRow(record: string[], row: number): void {
    if (record.length !== this.ncols) {
      this.log.bad({ file: this.name, row, reason: `expected ${this.ncols} columns, found ${record.length}` });
      return;
    }
    if (this.n === this.cap) this.grow();
    let { firstBad, badCells } = this.readFeatures(record);
    const label = record[this.labelIdx]!.trim();
    if (label === '') {
      badCells++;
      firstBad ??= `${this.labelName()} is empty, expected a class label`;
    }
    if (firstBad !== undefined) {
      const more = badCells > 1 ? ` (and ${badCells - 1} more bad cell${badCells > 2 ? 's' : ''} in this row)` : '';
      this.log.bad({ file: this.name, row, reason: `${firstBad}${more}` });
      return;
    }
    this.ids[this.n] = this.labelId(label, row);
    this.rows[this.n] = row;
    this.n++;
  }

  /** Doubles the room for rows. */
  private grow(): void {
    this.cap *= 2;
    const nx = new Float32Array(this.cap * this.featureCount);
    nx.set(this.x);
    this.x = nx;
    const ni = new Uint32Array(this.cap);
    ni.set(this.ids);
    this.ids = ni;
    const nr = new Uint32Array(this.cap);
    nr.set(this.rows);
    this.rows = nr;
  }

  /** Writes the row's features in place (row n); the first bad cell's description and how many were bad. */
  private readFeatures(record: string[]): { firstBad: string | undefined; badCells: number } {
    let firstBad: string | undefined;
    let badCells = 0;
    let f = this.n * this.featureCount;
    for (let i = 0; i < this.ncols; i++) {
      if (i === this.labelIdx) continue;
      const cell = record[i]!;
      const v = parseNumber(cell);
      if (v === undefined || Math.abs(v) > FLOAT32_MAX) {
        badCells++;
        firstBad ??=
          cell.trim() === ''
            ? `${this.colName(i)} is empty, expected a number`
            : v === undefined
              ? `${this.colName(i)} is ${quoteCell(cell)}, expected a number`
              : `${this.colName(i)} is ${cell.trim()}, beyond the float32 range`;
      } else {
        this.x[f] = v;
      }
      f++;
    }
    return { firstBad, badCells };
  }

  /** The label's id, in order of first appearance. */
  private labelId(label: string, row: number): number {
    let id = this.labelIds.get(label);
    if (id === undefined) {
      id = this.labelNames.length;
      if (id >= 65535)
        this.log.fail({ file: this.name, row, reason: `${this.labelName()} has more than 65535 distinct values; is it the right label column?` });
      this.labelIds.set(label, id);
      this.labelNames.push(label);
    }
    return id;
  }

  /** Fails an empty file, or one whose rows were all left out for no reported reason. */
  checkNotEmpty(): void {
    if (this.first) this.log.fail({ file: this.name, reason: 'the file is empty: expected rows of numeric features and a label' });
    if (this.n === 0 && this.log.badInputs === 0)
      this.log.fail({ file: this.name, reason: this.header ? 'the file has a header but no data rows' : 'no data rows' });
  }

  /** The rows read, their labels renumbered in the sorted order of the class names. */
  dataset(): RawDataset {
    const { n, featureCount, name } = this;
    const classes = sortClassNames(this.labelNames);
    const order = new Map(classes.map((c, k) => [c, k]));
    const remap = this.labelNames.map((l) => order.get(l)!);
    const y = new Uint16Array(n);
    for (let i = 0; i < n; i++) y[i] = remap[this.ids[i]!]!;
    return {
      kind: 'csv',
      inputShape: [featureCount],
      featureDtype: 'float32',
      x: this.x.subarray(0, n * featureCount),
      y,
      classes,
      unit: 'row',
      classFile: () => name,
      rows: this.rows.subarray(0, n),
    };
  }
}
