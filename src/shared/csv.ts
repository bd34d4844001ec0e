// CSV text as RFC 4180 writes it, for exports a spreadsheet or pandas reads back unchanged.
// Written here rather than taken from csv-stringify because that package is not installed yet
// (its sibling csv-parse is); the rules are few and the unit tests pin each of them.

/** What a cell may hold: empty for null and undefined. */
export type CsvCell = string | number | boolean | null | undefined;

/** A cell that a reader would split, or whose spaces it might trim, must be quoted. */
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One cell: numbers as JavaScript prints them (NaN and Infinity included), quotes doubled inside quotes. */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One line of cells, without its line end. */
export function csvLine(cells: readonly CsvCell[]): string {
  return cells.map(csvCell).join(',');
}

/** A header and its rows, each line ended by '\n' (as the run export writes them). */
export function csvText(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((cells) => `${csvLine(cells)}\n`).join('');
}
