// `autobatch settings --backends` as text: the ladder with each rung's engine, what auto picks,
// and the PyTorch engine — the Python used with its torch and the device of each torch rung, or
// every interpreter tried with the reason it was passed over and how to install torch. The same
// words as the Settings screen (src/shared/engine-display.ts). Pure: lines, printed by the caller.
import type { Backends, PythonFinding } from '../../shared/api/index.js';
import {
  candidateSource,
  candidateVerdict,
  candidateVersions,
  ENGINE_LABELS,
  installSteps,
  pythonSummary,
  rungDetail,
  TORCH_REQUIREMENT,
  torchRungs,
} from '../../shared/engine-display.js';
import { formatBytes } from '../../shared/format.js';
import { tableLines } from './output.js';

function ladderLines(b: Backends): string[] {
  const rows = b.backends.map((r) => [r.label, ENGINE_LABELS[r.engine], r.available ? 'available' : 'unavailable', rungDetail(r)]);
  const lines = tableLines(['Backend', 'Engine', 'Status', 'Device or reason'], rows);
  if (b.auto) {
    lines.push('', `Auto picks ${b.auto.rung ?? b.auto.name} on ${b.auto.device}.`);
    for (const s of b.auto.skipped) lines.push(`  skipped ${s.backend}: ${s.reason}`);
  }
  if (b.memoryBudget) lines.push(`Device memory budget: ${formatBytes(b.memoryBudget.bytes)} (${b.memoryBudget.source}).`);
  return lines;
}

const indent = (lines: string[]): string[] => lines.map((l) => (l === '' ? l : `  ${l}`));

function candidateLines(p: PythonFinding): string[] {
  if (p.candidates.length === 0) return [];
  const rows = p.candidates.map((c) => [c.command, candidateSource(c), candidateVersions(c), candidateVerdict(c)]);
  return ['Interpreters tried, in order:', ...indent(tableLines(['Python', 'From', 'Versions', 'Verdict'], rows))];
}

/** The PyTorch engine: the finding, the torch rungs' devices, the candidates, and — when none has torch — how to get it. */
export function pytorchLines(b: Backends): string[] {
  const p = b.python;
  const lines = ['PyTorch engine', `  ${pythonSummary(p)}`];
  for (const r of torchRungs(b)) lines.push(`  ${r.choice}: ${r.available ? 'available' : 'unavailable'}, ${rungDetail(r)}`);
  lines.push(...indent(candidateLines(p)));
  if (p.executable === null) {
    lines.push(`  PyTorch needs ${TORCH_REQUIREMENT}. To get it:`);
    for (const s of installSteps('cli')) lines.push(`    ${s.text}${s.command ? ` ${s.command}` : ''}`);
  }
  return lines;
}

/** Everything `settings --backends` prints after the settings. */
export function backendsLines(b: Backends): string[] {
  return [...ladderLines(b), '', ...pytorchLines(b), '', `Detected ${b.detectedAt}.`];
}
