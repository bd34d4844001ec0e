// The wire envelope every transport speaks, and the JSON encoding that keeps NaN and ±Infinity
// (a diverged loss must stay NaN in the browser; plain JSON would turn it into null).
//
//   request   {id, method, params}
//   response  {id, ok: true, result} | {id, ok: false, error: {message, code, field?, problems?}}
//   event     {event, data}
import { z } from 'zod';
import { importProblemSchema } from '../dataset-schemas.js';

export { importProblemSchema };

const requestIdSchema = z.union([z.number().int(), z.string().min(1).max(100)]);

export const wireRequestSchema = z.strictObject({
  id: requestIdSchema,
  method: z.string().min(1).max(100),
  params: z.unknown().optional(),
});

const API_ERROR_CODES = [
  /** The params did not match the method's schema; `field` names the first bad one. */
  'invalid-params',
  /** No such method. */
  'unknown-method',
  /** A dataset, run or tuning session that does not exist. */
  'not-found',
  /** The request is valid but the current state forbids it (a run that is not running, a name in use …). */
  'conflict',
  /** The request was understood but what it names cannot be used (data that does not import, a model that does not fit it). */
  'rejected',
  /** The call exists only under another transport (native dialogs outside Electron). */
  'unavailable',
  /** The transport is gone (closed window, lost connection). */
  'disconnected',
  /** A bug or an unexpected failure. */
  'internal',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export const wireErrorSchema = z.strictObject({
  message: z.string(),
  code: z.enum(API_ERROR_CODES),
  /** Dotted path of the bad field, e.g. "config.batchSize". */
  field: z.string().optional(),
  /** Dataset imports that failed: every problem found, in plain words. */
  problems: z.array(importProblemSchema).optional(),
});
export type WireError = z.infer<typeof wireErrorSchema>;

export const wireResponseSchema = z.union([
  z.strictObject({ id: requestIdSchema, ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ id: requestIdSchema.nullable(), ok: z.literal(false), error: wireErrorSchema }),
]);
export type WireResponse = z.infer<typeof wireResponseSchema>;

const wireEventSchema = z.strictObject({ event: z.string().min(1), data: z.unknown() });
export type WireEvent = z.infer<typeof wireEventSchema>;

/** What a client receives: a response to one of its requests, or an event. */
export const wireInboundSchema = z.union([wireResponseSchema, wireEventSchema]);

/** Thrown by every client for a failed call; carries the wire error's fields. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly field?: string;
  readonly problems?: WireError['problems'];

  constructor(error: WireError) {
    super(error.message);
    this.name = 'ApiError';
    this.code = error.code;
    if (error.field !== undefined) this.field = error.field;
    if (error.problems !== undefined) this.problems = error.problems;
  }

  toWire(): WireError {
    return {
      message: this.message,
      code: this.code,
      ...(this.field !== undefined ? { field: this.field } : {}),
      ...(this.problems !== undefined ? { problems: this.problems } : {}),
    };
  }
}

// ---- JSON with non-finite numbers -----------------------------------------------------------

const NON_FINITE_TAG = '$num';

/** JSON.stringify that writes NaN/±Infinity as {"$num":"NaN"} instead of null. */
export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return { [NON_FINITE_TAG]: String(v) };
    return v;
  });
}

/** JSON.parse that reads {"$num":"NaN"|"Infinity"|"-Infinity"} back as numbers. */
export function decodeWire(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === NON_FINITE_TAG) {
        const s = (v as Record<string, unknown>)[NON_FINITE_TAG];
        if (s === 'NaN') return Number.NaN;
        if (s === 'Infinity') return Number.POSITIVE_INFINITY;
        if (s === '-Infinity') return Number.NEGATIVE_INFINITY;
      }
    }
    return v;
  });
}
