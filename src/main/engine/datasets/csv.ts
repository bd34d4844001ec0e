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
  const { source: file, options, log } = ctx;
  log.unit = 'row';
  const name = path.basename(file);
  let size = 0;
  let delimiter = ',';
  try {
    size = (await stat(file)).size;
    delimiter = chooseDelimiter(await readFirstLine(file), path.extname(file).toLowerCase());
  } catch (err) {
    log.fail({ file: name, reason: `cannot read the file: ${describeError(err)}` });
  }

  const parser = parse({
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
  const input = createReadStream(file);
  let bytes = 0;
  input.on('data', (chunk) => {
    bytes += chunk.length;
    ctx.progress('decoding', Math.min(bytes, size), size);
  });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);

  let ncols = 0;
  let labelIdx = -1;
  let header: string[] | null = null;
  let featureCount = 0;
  let cap = 1024;
  let x = new Float32Array(0);
  let ids = new Uint32Array(cap);
  let rows = new Uint32Array(cap);
  let n = 0;
  const labelIds = new Map<string, number>();
  const labelNames: string[] = [];
  let first = true;

  const colName = (i: number) => (header ? `column ${JSON.stringify(header[i]!.trim())}` : `column ${i}`);
  const labelName = () => (header ? `label column ${JSON.stringify(header[labelIdx]!.trim())}` : `label column ${labelIdx}`);

  const addRow = (record: string[], row: number): void => {
    if (record.length !== ncols) {
      log.bad({ file: name, row, reason: `expected ${ncols} columns, found ${record.length}` });
      return;
    }
    if (n === cap) {
      cap *= 2;
      const nx = new Float32Array(cap * featureCount);
      nx.set(x);
      x = nx;
      const ni = new Uint32Array(cap);
      ni.set(ids);
      ids = ni;
      const nr = new Uint32Array(cap);
      nr.set(rows);
      rows = nr;
    }
    let firstBad: string | undefined;
    let badCells = 0;
    let f = n * featureCount;
    for (let i = 0; i < ncols; i++) {
      if (i === labelIdx) continue;
      const cell = record[i]!;
      const v = parseNumber(cell);
      if (v === undefined || Math.abs(v) > FLOAT32_MAX) {
        badCells++;
        firstBad ??=
          cell.trim() === ''
            ? `${colName(i)} is empty, expected a number`
            : v === undefined
              ? `${colName(i)} is ${quoteCell(cell)}, expected a number`
              : `${colName(i)} is ${cell.trim()}, beyond the float32 range`;
      } else {
        x[f] = v;
      }
      f++;
    }
    const label = record[labelIdx]!.trim();
    if (label === '') {
      badCells++;
      firstBad ??= `${labelName()} is empty, expected a class label`;
    }
    if (firstBad !== undefined) {
      log.bad({ file: name, row, reason: badCells > 1 ? `${firstBad} (and ${badCells - 1} more bad cell${badCells > 2 ? 's' : ''} in this row)` : firstBad });
      return;
    }
    let id = labelIds.get(label);
    if (id === undefined) {
      id = labelNames.length;
      if (id >= 65535) log.fail({ file: name, row, reason: `${labelName()} has more than 65535 distinct values; is it the right label column?` });
      labelIds.set(label, id);
      labelNames.push(label);
    }
    ids[n] = id;
    rows[n] = row;
    n++;
  };

  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      const { record, info } = item;
      const row = info.lines - countNewlines(record);
      if (first) {
        first = false;
        ncols = record.length;
        if (ncols < 2) {
          log.fail({
            file: name,
            row,
            reason: `expected at least 2 columns (features and a label) separated by ${delimiter === '\t' ? 'tabs' : JSON.stringify(delimiter)}, found ${ncols}`,
          });
        }
        const lc = options.labelColumn?.trim();
        let byName = false;
        if (lc !== undefined && lc !== '' && /^\d+$/.test(lc)) {
          labelIdx = Number(lc);
          if (labelIdx >= ncols)
            log.fail({ file: name, reason: `label column ${lc} does not exist: the file has ${ncols} columns (0–${ncols - 1})` }, 'labelColumn');
        } else if (lc) {
          labelIdx = record.findIndex((c) => c.trim() === lc);
          if (labelIdx < 0) labelIdx = record.findIndex((c) => c.trim().toLowerCase() === lc.toLowerCase());
          if (labelIdx < 0) {
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
          byName = true;
        } else {
          for (const nm of DEFAULT_LABEL_NAMES) {
            labelIdx = record.findIndex((c) => c.trim().toLowerCase() === nm);
            if (labelIdx >= 0) {
              byName = true;
              break;
            }
          }
          if (labelIdx < 0) labelIdx = ncols - 1;
        }
        featureCount = ncols - 1;
        x = new Float32Array(cap * featureCount);
        const isHeader = byName || record.some((c, i) => i !== labelIdx && parseNumber(c) === undefined);
        if (isHeader) header = record;
        else addRow(record, row);
        continue;
      }
      addRow(record, row);
    }
  } catch (err) {
    if (err instanceof Error && err.name === 'DatasetImportError') throw err;
    log.fail({ file: name, reason: `cannot read the file: ${describeError(err)}` });
  } finally {
    input.destroy();
  }

  if (first) log.fail({ file: name, reason: 'the file is empty: expected rows of numeric features and a label' });
  if (n === 0 && log.badInputs === 0) log.fail({ file: name, reason: header ? 'the file has a header but no data rows' : 'no data rows' });

  const classes = sortClassNames(labelNames);
  const order = new Map(classes.map((c, k) => [c, k]));
  const remap = labelNames.map((l) => order.get(l)!);
  const y = new Uint16Array(n);
  for (let i = 0; i < n; i++) y[i] = remap[ids[i]!]!;
  ctx.progress('decoding', size, size);

  return {
    kind: 'csv',
    inputShape: [featureCount],
    featureDtype: 'float32',
    x: x.subarray(0, n * featureCount),
    y,
    classes,
    unit: 'row',
    classFile: () => name,
    rows: rows.subarray(0, n),
  };
}
