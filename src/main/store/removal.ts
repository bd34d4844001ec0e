// Deleting a dataset, a run or an Auto-tune session together with every row that depends on it,
// in one transaction:
//
//   dataset → its runs (their metrics and artifact rows), its tuning sessions (their trials);
//   run     → its metrics and artifact rows;
//   session → its trials. Runs that trained with a deleted session are kept: their link to it
//             (runs.tuning_session_id) is set to NULL — their config holds what they trained with.
//
// Rows only: the files that go with them (dataset caches, run folders) are the caller's to remove
// (AutoBatchService.delete*, see service/removal.ts for the order). plan() says what a deletion
// takes, without changing anything; remove() plans again inside the transaction, lets the caller
// veto what it finds (a job that started meanwhile), then deletes.
import type Database from 'better-sqlite3';
import type { StoreContext } from './context.js';
import { guard } from './errors.js';

export type RemovalTarget = { kind: 'dataset'; id: number } | { kind: 'run'; id: number } | { kind: 'tuning'; id: number };

/** A run or a tuning session, with what tells whether a job is using it. */
export interface JobRow {
  id: number;
  status: string;
  ownerPid: number | null;
  ownerHost: string | null;
}

export interface RunRow extends JobRow {
  tuningSessionId: number | null;
}

export interface RemovalPlan {
  target: RemovalTarget;
  datasets: { id: number; name: string; cacheDir: string }[];
  /** Runs deleted, with the paths of their artifacts. */
  runs: (RunRow & { artifactPaths: string[] })[];
  /** Tuning sessions deleted. */
  sessions: JobRow[];
  /** Runs kept that trained with a deleted session: their link to it is cleared. */
  unlinkedRuns: RunRow[];
  /** Rows of the deleted runs' metrics, artifacts, and of the deleted sessions' trials. */
  metricRows: number;
  artifacts: number;
  trials: number;
}

interface RawJob {
  id: number;
  status: string;
  owner_pid: number | null;
  owner_host: string | null;
}
interface RawRun extends RawJob {
  tuning_session_id: number | null;
}

const RUN_COLUMNS = 'id, status, owner_pid, owner_host, tuning_session_id';
const SESSION_COLUMNS = 'id, status, owner_pid, owner_host';

const job = (r: RawJob): JobRow => ({ id: r.id, status: r.status, ownerPid: r.owner_pid, ownerHost: r.owner_host });
const run = (r: RawRun): RunRow => ({ ...job(r), tuningSessionId: r.tuning_session_id });

export class RemovalRepo {
  private readonly q: {
    dataset: Database.Statement<[number], { id: number; name: string; cache_dir: string }>;
    run: Database.Statement<[number], RawRun>;
    runsOfDataset: Database.Statement<[number], RawRun>;
    runsOfSession: Database.Statement<[number], RawRun>;
    session: Database.Statement<[number], RawJob>;
    sessionsOfDataset: Database.Statement<[number], RawJob>;
    artifactPaths: Database.Statement<[number], { path: string }>;
    metricCount: Database.Statement<[number], { n: number }>;
    trialCount: Database.Statement<[number], { n: number }>;
  };
  private readonly del: {
    metrics: Database.Statement<[number]>;
    artifacts: Database.Statement<[number]>;
    run: Database.Statement<[number]>;
    unlink: Database.Statement<[number]>;
    trials: Database.Statement<[number]>;
    session: Database.Statement<[number]>;
    dataset: Database.Statement<[number]>;
  };

  constructor(private readonly ctx: StoreContext) {
    const db = ctx.db;
    this.q = {
      dataset: db.prepare('SELECT id, name, cache_dir FROM datasets WHERE id = ?'),
      run: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`),
      runsOfDataset: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE dataset_id = ? ORDER BY id`),
      runsOfSession: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE tuning_session_id = ? ORDER BY id`),
      session: db.prepare(`SELECT ${SESSION_COLUMNS} FROM tuning_sessions WHERE id = ?`),
      sessionsOfDataset: db.prepare(`SELECT ${SESSION_COLUMNS} FROM tuning_sessions WHERE dataset_id = ? ORDER BY id`),
      artifactPaths: db.prepare('SELECT path FROM artifacts WHERE run_id = ? ORDER BY id'),
      metricCount: db.prepare('SELECT count(*) AS n FROM metrics WHERE run_id = ?'),
      trialCount: db.prepare('SELECT count(*) AS n FROM tuning_trials WHERE session_id = ?'),
    };
    this.del = {
      metrics: db.prepare('DELETE FROM metrics WHERE run_id = ?'),
      artifacts: db.prepare('DELETE FROM artifacts WHERE run_id = ?'),
      run: db.prepare('DELETE FROM runs WHERE id = ?'),
      unlink: db.prepare('UPDATE runs SET tuning_session_id = NULL WHERE tuning_session_id = ?'),
      trials: db.prepare('DELETE FROM tuning_trials WHERE session_id = ?'),
      session: db.prepare('DELETE FROM tuning_sessions WHERE id = ?'),
      dataset: db.prepare('DELETE FROM datasets WHERE id = ?'),
    };
  }

  /** What deleting `target` takes with it; undefined when there is no such row. Changes nothing. */
  plan(target: RemovalTarget): RemovalPlan | undefined {
    return guard(this.ctx.file, () => this.planNow(target));
  }

  /**
   * Deletes `target` and every row that goes with it, in one immediate transaction. `verify` sees
   * the plan as it stands inside the transaction and may throw to abort it (nothing is deleted).
   * Returns that plan: what was deleted.
   * @throws Error for an unknown target.
   */
  remove(target: RemovalTarget, verify: (plan: RemovalPlan) => void = () => {}): RemovalPlan {
    return guard(this.ctx.file, () =>
      this.ctx.db
        .transaction(() => {
          const plan = this.planNow(target);
          if (!plan) throw new Error(`no ${target.kind} with id ${target.id}`);
          verify(plan);
          for (const r of plan.runs) {
            this.del.metrics.run(r.id);
            this.del.artifacts.run(r.id);
            this.del.run.run(r.id);
          }
          for (const s of plan.sessions) {
            this.del.unlink.run(s.id);
            this.del.trials.run(s.id);
            this.del.session.run(s.id);
          }
          for (const d of plan.datasets) this.del.dataset.run(d.id);
          return plan;
        })
        .immediate(),
    );
  }

  private planNow(target: RemovalTarget): RemovalPlan | undefined {
    let datasets: RemovalPlan['datasets'] = [];
    let runs: RunRow[];
    let sessions: JobRow[];
    if (target.kind === 'dataset') {
      const d = this.q.dataset.get(target.id);
      if (!d) return undefined;
      datasets = [{ id: d.id, name: d.name, cacheDir: d.cache_dir }];
      runs = this.q.runsOfDataset.all(d.id).map(run);
      sessions = this.q.sessionsOfDataset.all(d.id).map(job);
    } else if (target.kind === 'run') {
      const r = this.q.run.get(target.id);
      if (!r) return undefined;
      runs = [run(r)];
      sessions = [];
    } else {
      const s = this.q.session.get(target.id);
      if (!s) return undefined;
      runs = [];
      sessions = [job(s)];
    }
    const deleted = new Set(runs.map((r) => r.id));
    // A run may train on one dataset with the recommendation of a session of another.
    const unlinkedRuns = sessions.flatMap((s) => this.q.runsOfSession.all(s.id).map(run)).filter((r) => !deleted.has(r.id));
    const withArtifacts = runs.map((r) => ({ ...r, artifactPaths: this.q.artifactPaths.all(r.id).map((a) => a.path) }));
    return {
      target,
      datasets,
      runs: withArtifacts,
      sessions,
      unlinkedRuns,
      metricRows: runs.reduce((n, r) => n + this.q.metricCount.get(r.id)!.n, 0),
      artifacts: withArtifacts.reduce((n, r) => n + r.artifactPaths.length, 0),
      trials: sessions.reduce((n, s) => n + this.q.trialCount.get(s.id)!.n, 0),
    };
  }
}
