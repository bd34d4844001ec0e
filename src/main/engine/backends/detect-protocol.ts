// The one line a backend-detection process (detect-entry.ts) prints, and how to read it back.
import { z } from 'zod';
import { backendReportSchema, backendSkipSchema } from '../../../shared/schemas.js';

export const DETECT_MARKER = 'AUTOBATCH_BACKEND_DETECT ';

const detectOutcomeSchema = z.union([
  z.strictObject({ ok: z.literal(true), report: backendReportSchema }),
  z.strictObject({ ok: z.literal(false), message: z.string(), skipped: z.array(backendSkipSchema) }),
]);
export type DetectOutcome = z.infer<typeof detectOutcomeSchema>;

/** The outcome printed in `stdout`, or undefined when the process printed none (it crashed). */
export function parseDetectOutput(stdout: string): DetectOutcome | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(DETECT_MARKER));
  if (!line) return undefined;
  try {
    const parsed = detectOutcomeSchema.safeParse(JSON.parse(line.slice(DETECT_MARKER.length)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
