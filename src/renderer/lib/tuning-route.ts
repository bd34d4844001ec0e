// Which tuning session the Tune screen shows, kept in step with its route: #/tune/3 shows
// session 3; #/tune shows a search running now, else the newest, else none (a fresh form).
// The route can change while a load is under way (Back, then Back again): only the answer for
// the route followed last is shown. Plain TypeScript, so it is tested without a browser.

export interface TuningListEntry {
  id: number;
  active: boolean;
}

export interface TuningSource<T extends { id: number }> {
  /** Every session, newest first. */
  listTunings(): Promise<readonly TuningListEntry[]>;
  getTuning(sessionId: number): Promise<T>;
}

/** The session a route without an id shows: one running now, else the newest (the list is newest first). */
export function defaultSession(list: readonly TuningListEntry[]): number | null {
  return (list.find((t) => t.active) ?? list[0])?.id ?? null;
}

export class TuningRouteFollower<T extends { id: number }> {
  /** Counts routes followed; an answer for an earlier one is dropped. */
  private route = 0;
  /** The session the current route shows (null while a route without an id is looked up, or when there is none). */
  private wanted: number | null = null;

  constructor(
    private readonly source: TuningSource<T>,
    /** Shows this session, or none (null). */
    private readonly show: (session: T | null) => void,
    private readonly fail: (err: unknown) => void,
  ) {}

  /** The route's tuning id is now `routeId`: load and show its session. */
  async follow(routeId: number | null): Promise<void> {
    const mine = ++this.route;
    this.wanted = routeId;
    let target = routeId;
    if (target === null) {
      try {
        target = defaultSession(await this.source.listTunings());
      } catch (err) {
        if (mine === this.route) this.fail(err);
        return;
      }
      if (mine !== this.route) return;
      this.wanted = target;
      if (target === null) return this.show(null);
    }
    try {
      const session = await this.source.getTuning(target);
      if (mine === this.route) this.show(session);
    } catch (err) {
      if (mine !== this.route) return;
      // Not the session of an earlier route: show none rather than the wrong one.
      this.show(null);
      this.fail(err);
    }
  }

  /** Loads the session shown again (its status changed); dropped once the route shows another. */
  async reload(sessionId: number): Promise<void> {
    if (sessionId !== this.wanted) return;
    try {
      const session = await this.source.getTuning(sessionId);
      if (sessionId === this.wanted) this.show(session);
    } catch (err) {
      if (sessionId === this.wanted) this.fail(err);
    }
  }
}
