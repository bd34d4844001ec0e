// CSV text as RFC 4180 writes it, for exports a spreadsheet or pandas reads back unchanged:
// csv-stringify (the sibling of the csv-parse the importers use), set to write what the export's
// readers expect — booleans as true/false, numbers as JavaScript prints them, cells with edge
// spaces quoted (a reader may trim them otherwise), '\n' line ends.
import { stringify } from 'csv-stringify/sync';

/** What a cell may hold: empty for null and undefined. */
export type CsvCell = string | number | boolean | null | undefined;

const OPTIONS = {
  eof: false,
  record_delimiter: '\n',
  // csv-stringify quotes delimiters, quotes and '\n' itself; a lone '\r' and edge spaces too here.
  quoted_match: /\r|^\s|\s$/,
  cast: { boolean: (v: boolean) => String(v), number: (v: number) => String(v) },
} as const;

/** One cell as it is written in a line. */
export function csvCell(value: CsvCell): string {
  return csvLine([value]);
}

/** One line of cells, without its line end. */
export function csvLine(cells: readonly CsvCell[]): string {
  // A lone empty cell would be written as an empty line: it needs no quoting, so it is just ''.
  if (cells.length === 1 && (cells[0] === null || cells[0] === undefined || cells[0] === '')) return '';
  return stringify([cells.map((c) => (c === undefined ? null : c))], OPTIONS);
}

/** A header and its rows, each line ended by '\n'. */
export function csvText(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((cells) => `${csvLine(cells)}\n`).join('');
}
