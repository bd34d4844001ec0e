// A node:test reporter that prints, after the run, every skipped test grouped by its reason
// (each reason names the part a test needs and how to install it: parts.ts), so a skip is never
// lost in a long log. It runs beside the usual reporter (scripts/run-tests.js).

/** The part of a runner event this reads (node:test's reporter stream). */
export interface RunnerEvent {
  type: string;
  data: { name?: string; file?: string; skip?: string | boolean; details?: { type?: string } };
}

interface SkipGroup {
  tests: string[];
  files: Set<string>;
}

/** Skips that only mean "not selected this time". */
const NOT_A_SKIP = /^test name does not match pattern$/;

/**
 * Groups skipped tests by reason. `events` are the runner's events; returns the summary's lines
 * (none when nothing was skipped).
 */
export function summariseSkips(events: Iterable<RunnerEvent>): string[] {
  const groups = new Map<string, SkipGroup>();
  for (const event of events) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, name, file, details } = event.data;
    if (skip === undefined || skip === false || details?.type === 'suite') continue;
    const reason = typeof skip === 'string' && skip.trim() ? skip.trim() : 'skipped without a reason';
    if (NOT_A_SKIP.test(reason)) continue;
    const group = groups.get(reason) ?? { tests: [], files: new Set<string>() };
    group.tests.push(name ?? '(unnamed)');
    if (file) group.files.add(file.replace(/^.*\/dist\//, ''));
    groups.set(reason, group);
  }
  if (groups.size === 0) return [];
  const total = [...groups.values()].reduce((n, g) => n + g.tests.length, 0);
  const lines = [`Skipped: ${total} test${total === 1 ? '' : 's'}, in ${groups.size} group${groups.size === 1 ? '' : 's'}`];
  for (const [reason, g] of [...groups].sort((a, b) => b[1].tests.length - a[1].tests.length)) {
    lines.push(`- ${g.tests.length} × ${reason}`);
    lines.push(`    in ${[...g.files].sort().join(', ') || 'an unknown file'}`);
  }
  return lines;
}

export default async function* skipSummaryReporter(source: AsyncIterable<RunnerEvent>): AsyncGenerator<string> {
  const events: RunnerEvent[] = [];
  for await (const event of source) {
    if (event.type === 'test:pass' || event.type === 'test:fail') events.push({ type: event.type, data: event.data });
  }
  const lines = summariseSkips(events);
  yield lines.length ? `\n${lines.join('\n')}\n` : '\nSkipped: none\n';
}
