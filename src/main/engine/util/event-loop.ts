// Long loops on the engine side (training, probes) await this between steps, so that messages
// from the parent process (a stop, say) and timers get their turn.

/** Resolves after the event loop has run once (setImmediate: after pending I/O callbacks). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
