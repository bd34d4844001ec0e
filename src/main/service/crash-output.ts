// What a trainer process printed, kept for the message when it crashes: the end of its output,
// and the first line that said it ran out of memory. V8 names the cause first and then prints a
// native stack trace long enough to push that line out of any tail.
import { looksLikeOutOfMemory } from '../../shared/failure-text.js';

const TAIL_CHARS = 4000;

export class CrashOutput {
  private tail = '';
  private oomLine = '';

  /** Keeps a chunk of the process's stdout or stderr. */
  readonly keep = (chunk: Buffer | string): void => {
    const text = chunk.toString();
    if (!this.oomLine)
      this.oomLine =
        text
          .split('\n')
          .find((l) => looksLikeOutOfMemory(l))
          ?.trim() ?? '';
    this.tail = (this.tail + text).slice(-TAIL_CHARS);
  };

  /** The end of the output, led by the out-of-memory line when the tail no longer holds it. */
  text(): string {
    return this.oomLine && !this.tail.includes(this.oomLine) ? `${this.oomLine}\n…\n${this.tail}` : this.tail;
  }
}
