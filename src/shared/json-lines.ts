// The wire format between the host and the Python trainer: one JSON document per line. JSON has
// no NaN or ±Infinity, and a diverging loss is exactly such a number, so non-finite numbers travel
// as {"$f": "NaN" | "Infinity" | "-Infinity"} (python/autobatch_trainer/protocol.py writes them
// the same way) and are decoded before the zod schemas see the message.

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

/** The tag a non-finite number travels as. */
function tagOf(n: number): { $f: string } {
  return { $f: Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity' };
}

/** One line (without its newline) holding `value`, non-finite numbers tagged. */
export function encodeJsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? tagOf(v) : v));
}

function isTag(v: unknown): v is { $f: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === '$f' && typeof (v as { $f: unknown }).$f === 'string' && (v as { $f: string }).$f in NON_FINITE;
}

/** The value of one line; throws SyntaxError on text that is not JSON. */
export function decodeJsonLine(line: string): unknown {
  return JSON.parse(line, (_key, v: unknown) => (isTag(v) ? NON_FINITE[v.$f] : v));
}

/**
 * Splits a byte stream into lines: feed it chunks, it calls `onLine` with each complete line (a
 * line split across chunks is joined first). A line longer than `maxLineBytes` is reported to
 * `onOverflow` and dropped, so a runaway writer cannot fill the host's memory.
 */
export class LineSplitter {
  private partial = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineBytes = 64 * 1024 * 1024,
    private readonly onOverflow: (bytes: number) => void = () => undefined,
  ) {}

  push(chunk: string): void {
    let text = this.partial + chunk;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (line.trim()) this.onLine(line);
      nl = text.indexOf('\n');
    }
    if (text.length > this.maxLineBytes) {
      this.onOverflow(text.length);
      text = '';
    }
    this.partial = text;
  }
}
