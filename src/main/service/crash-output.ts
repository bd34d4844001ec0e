// What a trainer process printed, kept for the message when it crashes: the end of its output,
// and the first line that said it ran out of memory. V8 names the cause first and then prints a
// native stack trace long enough to push that line out of any tail.
import { looksLikeOutOfMemory } from '../../shared/failure-text.js';

const TAIL_CHARS = 4000;
/** Longest unfinished line kept while waiting for its end. */
const MAX_LINE_CHARS = 4000;

export class CrashOutput {
  private tail = '';
  private oomLine = '';

  /**
   * A keeper for one stream (stdout or stderr, each its own: their chunks interleave). Lines are
   * looked at whole (a pipe may split the out-of-memory line between two chunks); an unfinished
   * last line stays in the tail, which the failure's text is read from too.
   */
  stream(): (chunk: Buffer | string) => void {
    let partial = '';
    return (chunk) => {
      const text = chunk.toString();
      if (!this.oomLine) {
        const lines = (partial + text).split('\n');
        partial = (lines.pop() ?? '').slice(-MAX_LINE_CHARS);
        this.oomLine = lines.find((l) => looksLikeOutOfMemory(l))?.trim() ?? '';
      }
      this.tail = (this.tail + text).slice(-TAIL_CHARS);
    };
  }

  /** Keeps a chunk of a single stream. */
  readonly keep = this.stream();

  /** The end of the output, led by the out-of-memory line when the tail no longer holds it. */
  text(): string {
    return this.oomLine && !this.tail.includes(this.oomLine) ? `${this.oomLine}\n…\n${this.tail}` : this.tail;
  }
}
