// A tuning's fingerprint (issue 20), made the same way when its search ends (stored) and when it
// is used or listed (current), so that the two differ only where the machine, the data or the
// request did: one function reads the backend, device and torch version from the service's
// backend resolver (cached detection) on both sides, never the trainer's own words on one side
// and detection's on the other.
import type { BackendChoice } from '../../shared/run-types.js';
import { engineOf, isTorchBackend } from '../../shared/run-types.js';
import { isModelKind } from '../../shared/model-export.js';
import { modelAcceptsShape, trainableParameters } from '../../shared/model-families.js';
import { freshnessOf, NO_FINGERPRINT_REASON, type FingerprintChange, type TuningFingerprint, type TuningFreshness } from '../../shared/tuning-fingerprint.js';
import type { DatasetRecord, TuningSessionRecord } from '../store/index.js';
import type { BackendResolver } from './backend-resolver.js';

export interface FingerprintDeps {
  backends: Pick<BackendResolver, 'resolve' | 'torch'>;
  /** The dataset's content hash (stored, or computed from its cache folder and then stored). */
  contentHash(dataset: DatasetRecord): Promise<string>;
  appVersion: string;
}

/** What a search or a run is made of, before the machine is asked. */
export interface FingerprintInput {
  dataset: DatasetRecord;
  model: string;
  startModel: string | null;
  augment: string;
  backend: BackendChoice;
}

export type FingerprintResult =
  | { ok: true; fingerprint: TuningFingerprint }
  /** What is known without the backend, and why the backend is not available. */
  | { ok: false; partial: Omit<TuningFingerprint, 'engine' | 'backend' | 'device' | 'torchVersion'>; backendProblem: string };

/** Trainable parameters of a model of this app at the dataset's input and classes; null for a start model or one from elsewhere. */
function parametersOf(input: FingerprintInput): number | null {
  const shape = input.dataset.manifest.inputShape;
  if (input.startModel !== null || !isModelKind(input.model) || modelAcceptsShape(input.model, shape)) return null;
  return trainableParameters(input.model, shape, input.dataset.manifest.classes.length);
}

/** The fingerprint of `input` on this machine now; throws when the dataset's cache cannot be read. */
export async function fingerprintOf(input: FingerprintInput, deps: FingerprintDeps): Promise<FingerprintResult> {
  const d = input.dataset;
  const partial = {
    model: input.model,
    parameters: parametersOf(input),
    startModel: input.startModel,
    dataset: { id: d.id, name: d.name, contentHash: await deps.contentHash(d) },
    inputShape: [...d.manifest.inputShape],
    augment: input.augment,
    appVersion: deps.appVersion,
  };
  const r = await deps.backends.resolve(input.backend);
  if (!r.ok) return { ok: false, partial, backendProblem: r.message };
  const torchVersion = isTorchBackend(r.rung) ? ((await deps.backends.torch(r.rung)).environment?.torch ?? null) : null;
  return { ok: true, fingerprint: { ...partial, engine: engineOf(r.rung), backend: r.rung, device: r.device, torchVersion } };
}

/** The parts of a tuning its fingerprint is made of, with a run's changes. */
export function tuningInput(
  t: TuningSessionRecord,
  dataset: DatasetRecord,
  changes: { model?: string; augment?: string; backend?: BackendChoice } = {},
): FingerprintInput {
  return {
    dataset,
    model: changes.model ?? t.model,
    // A run that names its own model trains it from scratch (run-start.ts refuses a model the start model is not).
    startModel: changes.model !== undefined ? null : (t.request.startFrom?.digest ?? null),
    augment: changes.augment ?? t.request.augment ?? 'none',
    backend: changes.backend ?? t.request.backend,
  };
}

/**
 * The fingerprint to store when a search ends: the backend it ran on (its rung), as detection
 * names it. Null when it never reached a backend (nothing was measured).
 */
export async function endedSearchFingerprint(t: TuningSessionRecord, dataset: DatasetRecord, deps: FingerprintDeps): Promise<TuningFingerprint | null> {
  if (t.rung === null) return null;
  const asked = await fingerprintOf(tuningInput(t, dataset), deps);
  if (asked.ok && asked.fingerprint.backend === t.rung) return asked.fingerprint;
  // The request's choice resolves elsewhere now (detection changed during the search): the rung it ran on.
  const ran = await fingerprintOf({ ...tuningInput(t, dataset), backend: t.rung }, deps);
  return ran.ok ? ran.fingerprint : null;
}

/** Why a tuning without a fingerprint is neither fresh nor stale. */
export function unknownReason(t: TuningSessionRecord): string {
  if (t.status === 'running') return 'fingerprint unknown: the search is still running';
  if (t.fingerprint === null && t.rung === null && t.backend === null && t.status !== 'completed')
    return 'fingerprint unknown: the search ended before it measured anything';
  return NO_FINGERPRINT_REASON;
}

/** Fresh, stale (with each change) or unknown, from the stored fingerprint and the current result. */
export function freshnessFrom(t: TuningSessionRecord, current: FingerprintResult | { unreadable: string }): TuningFreshness {
  const stored = t.fingerprint;
  if (stored === null) return freshnessOf(null, null, [], unknownReason(t));
  if ('unreadable' in current) return freshnessOf(stored, null, [], `fingerprint unknown now: ${current.unreadable}`);
  if (current.ok) return freshnessOf(stored, current.fingerprint);
  // No backend now: the rest is compared against the stored backend's side, and the backend's absence is the change.
  const sameBackend = { ...current.partial, engine: stored.engine, backend: stored.backend, device: stored.device, torchVersion: stored.torchVersion };
  const gone: FingerprintChange = { field: 'backend', text: `the backend ${stored.backend} is not available now (${current.backendProblem})` };
  return freshnessOf(stored, sameBackend, [gone]);
}
