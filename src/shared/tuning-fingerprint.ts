// A tuning's fingerprint: what its measurements depend on (issue 20). A search measures memory
// and speed of one model on one dataset on one backend of one machine; when any of those has
// changed since, its recommendation may no longer hold. The service stores the fingerprint when
// a search ends and computes the current one when the tuning is used ("Train with this",
// `train --from-tuning`) or listed; the comparison below turns the difference into sentences,
// the same words for the CLI and the renderer. Pure: no Node, no DOM.
import { z } from 'zod';

/** The fields that are compared, in the order their changes are told. */
export const FINGERPRINT_FIELDS = [
  'model',
  'parameters',
  'startModel',
  'dataset',
  'inputShape',
  'augment',
  'engine',
  'backend',
  'device',
  'torchVersion',
  'appVersion',
] as const;
export type FingerprintField = (typeof FINGERPRINT_FIELDS)[number];

export const tuningFingerprintSchema = z.strictObject({
  /** The model's name (a model of this app, or 'imported'). */
  model: z.string().min(1).max(200),
  /** Its trainable parameters at the dataset's input and classes; null where the app cannot count them (a start model). */
  parameters: z.number().int().min(0).nullable(),
  /** sha256 of the trained model the search starts from; null from scratch. */
  startModel: z.string().max(200).nullable(),
  dataset: z.strictObject({
    id: z.number().int().min(1),
    name: z.string().max(200),
    /** sha256 of the cached samples, labels and split (engine/datasets/content-hash.ts). */
    contentHash: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex'),
  }),
  /** [H, W, C] for images, [F] for tabular data. */
  inputShape: z.array(z.number().int().min(1)).min(1).max(4),
  augment: z.string().max(50),
  engine: z.enum(['tfjs', 'torch']),
  /** The concrete backend (rung) it runs on: 'webgpu', 'wasm', 'torch-cpu'… */
  backend: z.string().max(50),
  /** The device as backend detection names it; null where detection leaves it to the trainer (an explicit tfjs choice). */
  device: z.string().max(500).nullable(),
  /** torch.__version__ on the torch engine; null on tfjs. */
  torchVersion: z.string().max(100).nullable(),
  /** package.json's version of the app that measured. */
  appVersion: z.string().max(100),
});
export type TuningFingerprint = z.infer<typeof tuningFingerprintSchema>;

export const FRESHNESS_STATES = ['fresh', 'stale', 'unknown'] as const;
export type FreshnessState = (typeof FRESHNESS_STATES)[number];

export const fingerprintChangeSchema = z.strictObject({ field: z.enum(FINGERPRINT_FIELDS), text: z.string() });
export type FingerprintChange = z.infer<typeof fingerprintChangeSchema>;

export const tuningFreshnessSchema = z.strictObject({
  /** fresh: nothing measured has changed; stale: something has (see changes); unknown: no fingerprint to compare (see reason). */
  state: z.enum(FRESHNESS_STATES),
  /** What changed, one sentence each ("the backend is now wasm, was webgpu"); empty unless stale. */
  changes: z.array(fingerprintChangeSchema),
  /** Why it is unknown, in words; null when it is known. */
  reason: z.string().nullable(),
});
export type TuningFreshness = z.infer<typeof tuningFreshnessSchema>;

/** Why a tuning stored before fingerprints were kept is neither fresh nor stale. */
export const NO_FINGERPRINT_REASON = 'fingerprint unknown: this tuning was stored before tunings kept one';

/** The first characters of a hash, as the changes quote it. */
export function shortHash(hash: string): string {
  return `${hash.slice(0, 8)}…`;
}

function shapeText(shape: readonly number[]): string {
  return shape.join('×');
}

function countText(n: number): string {
  return n.toLocaleString('en-US');
}

function datasetChange(was: TuningFingerprint['dataset'], now: TuningFingerprint['dataset']): string | null {
  if (was.contentHash === now.contentHash) return null;
  if (was.id === now.id) return `the dataset's content changed (hash ${shortHash(was.contentHash)} → ${shortHash(now.contentHash)})`;
  return `the dataset is now "${now.name}" (hash ${shortHash(now.contentHash)}), was "${was.name}" (hash ${shortHash(was.contentHash)})`;
}

/** One sentence per field that differs; a field either side does not know (null) is not compared. */
const DESCRIBE: { [F in FingerprintField]: (was: TuningFingerprint, now: TuningFingerprint) => string | null } = {
  model: (was, now) => (was.model === now.model ? null : `the model is now ${now.model}, was ${was.model}`),
  // Only for the same model: a different model says so above.
  parameters: (was, now) =>
    was.model !== now.model || was.parameters === null || now.parameters === null || was.parameters === now.parameters
      ? null
      : `the ${now.model} model now has ${countText(now.parameters)} trainable parameters, had ${countText(was.parameters)}`,
  startModel: (was, now) => {
    if (was.startModel === now.startModel) return null;
    if (now.startModel === null) return `the model now trains from scratch, was started from model ${shortHash(was.startModel!)}`;
    if (was.startModel === null) return `the model now starts from model ${shortHash(now.startModel)}, was trained from scratch`;
    return `the start model is now ${shortHash(now.startModel)}, was ${shortHash(was.startModel)}`;
  },
  dataset: (was, now) => datasetChange(was.dataset, now.dataset),
  inputShape: (was, now) =>
    shapeText(was.inputShape) === shapeText(now.inputShape) ? null : `the input size is now ${shapeText(now.inputShape)}, was ${shapeText(was.inputShape)}`,
  augment: (was, now) => (was.augment === now.augment ? null : `the augmentation is now ${now.augment}, was ${was.augment}`),
  engine: (was, now) => (was.engine === now.engine ? null : `the engine is now ${engineName(now.engine)}, was ${engineName(was.engine)}`),
  backend: (was, now) => (was.backend === now.backend ? null : `the backend is now ${now.backend}, was ${was.backend}`),
  device: (was, now) => (sameDevice(was, now) ? null : `the device is now ${now.device}, was ${was.device}`),
  torchVersion: (was, now) =>
    was.torchVersion === null || now.torchVersion === null || was.torchVersion === now.torchVersion
      ? null
      : `torch is now version ${now.torchVersion}, was ${was.torchVersion}`,
  appVersion: (was, now) => (was.appVersion === now.appVersion ? null : `the app is now version ${now.appVersion}, was ${was.appVersion}`),
};

/**
 * Whether the device is the same, or unknown on a side. Detection names a torch device with
 * torch's version ("CPU (PyTorch 1.13.1, Python 3.11)"): a new torch alone is told once, as
 * torch's version, not again as a new device.
 */
function sameDevice(was: TuningFingerprint, now: TuningFingerprint): boolean {
  if (was.device === null || now.device === null || was.device === now.device) return true;
  const { torchVersion: before } = was;
  const { torchVersion: after } = now;
  return before !== null && after !== null && before !== after && was.device.split(before).join(after) === now.device;
}

function engineName(engine: TuningFingerprint['engine']): string {
  return engine === 'torch' ? 'PyTorch' : 'tfjs';
}

/** What differs between the stored fingerprint and the current one, in FINGERPRINT_FIELDS order. */
export function fingerprintChanges(was: TuningFingerprint, now: TuningFingerprint): FingerprintChange[] {
  return FINGERPRINT_FIELDS.flatMap((field) => {
    const text = DESCRIBE[field](was, now);
    return text === null ? [] : [{ field, text }];
  });
}

/**
 * Fresh, stale or unknown. `extra`: changes the current fingerprint could not hold (the backend
 * is not available at all now). Without a stored fingerprint it is unknown — never guessed.
 */
export function freshnessOf(
  stored: TuningFingerprint | null,
  current: TuningFingerprint | null,
  extra: FingerprintChange[] = [],
  unknownReason = NO_FINGERPRINT_REASON,
): TuningFreshness {
  if (stored === null) return { state: 'unknown', changes: [], reason: unknownReason };
  const changes = [...(current ? fingerprintChanges(stored, current) : []), ...extra];
  if (!current && changes.length === 0) return { state: 'unknown', changes: [], reason: unknownReason };
  return { state: changes.length ? 'stale' : 'fresh', changes, reason: null };
}

/** A short label for a list's column or badge: words, not only a colour. */
export function freshnessLabel(f: TuningFreshness): string {
  return f.state === 'fresh' ? 'up to date' : f.state === 'stale' ? 'stale' : 'fingerprint unknown';
}

/** The whole of it in one line: "stale: the backend is now wasm, was webgpu; …". */
export function freshnessText(f: TuningFreshness): string {
  if (f.state === 'stale') return `stale: ${f.changes.map((c) => c.text).join('; ')}`;
  if (f.state === 'unknown') return f.reason ?? 'fingerprint unknown';
  return 'up to date: nothing it measured has changed';
}
