// The "PyTorch engine" section of Settings as plain data: the Python used and its torch, the
// device (or the reason) of each torch rung, every interpreter tried with its verdict, and — when
// none has torch — how to install it. The words come from src/shared/engine-display.ts, which
// `autobatch settings --backends` shares. Pure (unit-tested from test/unit/renderer).
import type { Backends } from '../../shared/api/data.js';
import {
  candidateSource,
  candidateVerdict,
  candidateVersions,
  installSteps,
  pythonSummary,
  rungDetail,
  torchRungs,
  type InstallStep,
} from '../../shared/engine-display.js';
import type { ConcreteBackend } from '../../shared/run-types.js';

export interface PytorchFact {
  label: string;
  value: string;
  /** A path, shown as code. */
  code?: boolean;
}

export interface TorchDeviceRow {
  choice: ConcreteBackend;
  available: boolean;
  /** The device when available, else why not. */
  detail: string;
}

export interface CandidateRow {
  command: string;
  source: string;
  versions: string;
  verdict: string;
  used: boolean;
}

export interface PytorchSection {
  found: boolean;
  /** One line: the interpreter and versions, or that none has torch and how many were tried. */
  summary: string;
  /** Python (path), Python's version and torch's version, when found; else empty. */
  facts: PytorchFact[];
  devices: TorchDeviceRow[];
  candidates: CandidateRow[];
  /** How to get torch; empty when it was found. */
  install: InstallStep[];
}

export function pytorchSection(b: Backends): PytorchSection {
  const p = b.python;
  const found = p.executable !== null;
  return {
    found,
    summary: pythonSummary(p),
    facts: found
      ? [
          { label: 'Python', value: p.executable!, code: true },
          { label: 'Python version', value: p.pythonVersion ?? '—' },
          { label: 'torch version', value: p.torchVersion ?? '—' },
        ]
      : [],
    devices: torchRungs(b).map((r) => ({ choice: r.choice, available: r.available, detail: rungDetail(r) })),
    candidates: p.candidates.map((c) => ({
      command: c.command,
      source: candidateSource(c),
      versions: candidateVersions(c),
      verdict: candidateVerdict(c),
      used: c.rejected === null,
    })),
    install: found ? [] : installSteps('app'),
  };
}
