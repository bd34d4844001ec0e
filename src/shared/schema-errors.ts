// How a failed zod validation is told, the same everywhere (the API's invalid-params answers,
// the service's settings errors, the store's damaged columns, messages between processes): each
// bad field as its dotted path with what is wrong with it, unknown fields by name.
import type { z } from 'zod';

/** At most this many issues are listed; the first ones are what a user fixes first anyway. */
const MAX_ISSUES = 5;

function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** The dotted path of the first bad field ('config.batchSize', or an unknown field's), if any. */
export function schemaErrorField(error: z.ZodError): string | undefined {
  const issue = error.issues[0];
  if (!issue) return undefined;
  const path = issue.code === 'unrecognized_keys' && issue.keys.length > 0 ? [...issue.path, issue.keys[0]!] : issue.path;
  return path.length > 0 ? dotted(path) : undefined;
}

/**
 * One line naming each bad field: "batchSize: Too small: expected number to be >=1;
 * config.extra: unknown field". An issue with the whole value (no path) is labelled `root`
 * when given ('params'), and is its bare message otherwise.
 */
export function describeSchemaError(error: z.ZodError, root?: string): string {
  return error.issues
    .slice(0, MAX_ISSUES)
    .map((i) => {
      if (i.code === 'unrecognized_keys') {
        return `${i.keys.map((k) => dotted([...i.path, k])).join(', ')}: unknown field${i.keys.length > 1 ? 's' : ''}`;
      }
      const where = i.path.length > 0 ? dotted(i.path) : root;
      return where === undefined ? i.message : `${where}: ${i.message}`;
    })
    .join('; ');
}
