// How the Tune screen shows whether a tuning still holds (issue 20): the badge of the list of
// past searches (words first, a tone besides: never colour alone) and the warning beside "Train
// with this". The sentences come from shared/tuning-fingerprint.ts, as the CLI's do.
import { freshnessLabel, freshnessText, type TuningFreshness } from '../../shared/tuning-fingerprint.js';

export interface FreshnessBadge {
  /** The badge's text: "stale", "up to date", "fingerprint unknown". */
  label: string;
  /** What it means, in a sentence (shown beside the badge and read with it). */
  detail: string;
  tone: 'ok' | 'warn' | 'muted';
}

/** The badge for a tuning; null when the answer does not say (a run's history). */
export function freshnessBadge(f: TuningFreshness | undefined): FreshnessBadge | null {
  if (!f) return null;
  const tone = f.state === 'fresh' ? 'ok' : f.state === 'stale' ? 'warn' : 'muted';
  // The label already says "stale" or "fingerprint unknown": the detail goes on from there.
  return { label: freshnessLabel(f), detail: freshnessText(f).replace(/^(stale|fingerprint unknown): /, ''), tone };
}

/** The warning beside "Train with this": the changes, one per item; null unless stale. */
export function staleWarning(f: TuningFreshness | undefined): { title: string; changes: string[] } | null {
  if (f?.state !== 'stale') return null;
  const n = f.changes.length;
  return {
    title: `This tuning may no longer hold: ${n === 1 ? 'one thing it measured has' : `${n} things it measured have`} changed since.`,
    changes: f.changes.map((c) => c.text.charAt(0).toUpperCase() + c.text.slice(1) + '.'),
  };
}
