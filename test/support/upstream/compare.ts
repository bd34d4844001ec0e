// The verdict on tfjs-core's op tests run twice on wasm (test/support/upstream/run-specs.ts):
// with the stock kernels and with the app's. A spec fails the check when it passes on stock and
// not with the app's kernels, or when stock fails it only for lack of a kernel the app adds and
// it still fails with that kernel. What stock cannot run is listed with the reason, not dropped.
import { upstreamExcludeReason } from './spec-table.js';

export interface SpecOutcome {
  name: string;
  status: 'passed' | 'failed' | 'excluded' | 'pending';
  failure?: string;
}

export interface StockFailure {
  name: string;
  reason: string;
  app: SpecOutcome['status'];
  /** The app run's failure, where it fails too. */
  appFailure?: string;
}

export interface Verdict {
  /** Specs that failed the check, each with what went wrong. */
  problems: string[];
  /** Specs stock wasm fails, with the reason (and how they fare with the app's kernels). */
  stockCannotRun: StockFailure[];
  passedBoth: number;
}

const MISSING_KERNEL = /Kernel '(\w+)' not registered for backend 'wasm'/;

function firstLine(message: string | undefined): string {
  return (message ?? 'no message').split('\n')[0]!.slice(0, 160);
}

function stockReason(o: SpecOutcome): string {
  const upstream = upstreamExcludeReason(o.name);
  return upstream === null ? `stock wasm fails it: ${firstLine(o.failure)}` : `${upstream} (stock wasm: ${firstLine(o.failure)})`;
}

/** Whether the app's failure is the app's: not merely another kernel that neither run has. */
function appToBlame(stock: SpecOutcome, app: SpecOutcome, appKernels: ReadonlySet<string>): boolean {
  const lacked = MISSING_KERNEL.exec(stock.failure ?? '')?.[1];
  if (lacked === undefined || !appKernels.has(lacked)) return false;
  const stillLacked = MISSING_KERNEL.exec(app.failure ?? '')?.[1];
  return stillLacked === undefined || appKernels.has(stillLacked);
}

/** Outcomes keyed by name and occurrence: a few spec files give two specs one name. */
function keyed(outcomes: readonly SpecOutcome[]): Array<[string, SpecOutcome]> {
  const seen = new Map<string, number>();
  return outcomes.map((o) => {
    const n = seen.get(o.name) ?? 0;
    seen.set(o.name, n + 1);
    return [`${o.name}\u0000${n}`, o];
  });
}

/** Compares the two runs' outcomes; appKernels: the kernel names the app registers on wasm. */
export function compareRuns(stock: readonly SpecOutcome[], app: readonly SpecOutcome[], appKernels: readonly string[]): Verdict {
  const kernels = new Set(appKernels);
  const byName = new Map(keyed(app).map(([k, o]) => [k, o]));
  const verdict: Verdict = { problems: [], stockCannotRun: [], passedBoth: 0 };
  for (const [key, s] of keyed(stock)) {
    const a = byName.get(key);
    byName.delete(key);
    if (a === undefined) {
      verdict.problems.push(`${s.name}: ran on stock wasm, missing from the run with the app's kernels`);
    } else if (s.status === 'passed' && a.status !== 'passed') {
      verdict.problems.push(`${s.name}: passes with the stock kernels, ${a.status} with the app's: ${firstLine(a.failure)}`);
    } else if (s.status === 'passed') {
      verdict.passedBoth++;
    } else if (s.status === 'failed') {
      verdict.stockCannotRun.push({
        name: s.name,
        reason: stockReason(s),
        app: a.status,
        ...(a.status === 'failed' ? { appFailure: firstLine(a.failure) } : {}),
      });
      if (a.status !== 'passed' && appToBlame(s, a, kernels)) {
        verdict.problems.push(`${s.name}: stock wasm lacks a kernel the app registers, and with it the spec fails: ${firstLine(a.failure)}`);
      }
    }
  }
  for (const o of byName.values()) verdict.problems.push(`${o.name}: ran with the app's kernels, missing from the stock run`);
  return verdict;
}
