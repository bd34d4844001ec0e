// How the CLI speaks: one JSON document on stdout with --json; otherwise plain text, with
// progress bars on stderr when it is a terminal (so piping stdout stays clean).
import cliProgress from 'cli-progress';

interface OutputOptions {
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printLine(text = ''): void {
  process.stdout.write(text + '\n');
}

/** Left-aligned columns as lines (a dash for a missing cell), for lists. */
export function tableLines(headers: string[], rows: (string | number | null | undefined)[][]): string[] {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '—' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) =>
    r
      .map((c, i) => (c ?? '').padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

/** Left-aligned columns, for lists. */
export function printTable(headers: string[], rows: (string | number | null | undefined)[][]): void {
  for (const line of tableLines(headers, rows)) printLine(line);
}

interface Progress {
  update(done: number, total: number, info?: Record<string, string | number>): void;
  stop(): void;
}

/** A progress bar on an interactive stderr; silent otherwise (logs and --json stay clean). */
export function createProgress(label: string, options: OutputOptions, format = '{bar} {percentage}% | {value}/{total} {info}'): Progress {
  if (options.json || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(10)} ${format}`, stream: process.stderr, hideCursor: true, clearOnComplete: false, barsize: 30, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, info = {}) {
      const payload = {
        info: Object.entries(info)
          .map(([k, v]) => `${k} ${v}`)
          .join(' | '),
        ...info,
      };
      if (!started) {
        bar.start(total, done, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export function formatPercent(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;
}
