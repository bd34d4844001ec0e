// What the batch-size search asks of the device (docs/architecture.md §5.1): a memory probe at a
// batch, a throughput probe, a learning-rate range test, a noise probe and a validation trial.
// Each answers with its measurement or with why it failed; none rejects for a failed probe. The
// real one is a probe session in a trainer process (ProbeSessionProber); the search's unit tests
// use a simulated device.
import type { ProbeRequest, ProbeResult, ProbeSession } from '../../../shared/probe-protocol.js';
import type { BackendReport } from '../../../shared/run-types.js';
import { ProbeHost, type ProbeOutcome } from '../probe-host.js';
import type { TrainerSpawner } from '../trainer-host.js';

/** How a probe ended: its measurement, or the cause of its failure. */
export type ProbeAnswer =
  { ok: true; result: ProbeResult; seconds: number } | { ok: false; cause: Extract<ProbeOutcome, { ok: false }>['cause']; message: string; seconds: number };

/** A probe request of one kind, without the kind and the id (the prober numbers its requests). */
export type ProbeAsk<K extends ProbeRequest['kind']> = Omit<Extract<ProbeRequest, { kind: K }>, 'kind' | 'id'>;

export interface Prober {
  /** Starts the session (backend, dataset, model); resolves with the backend in use. */
  start(): Promise<BackendReport>;
  /** One training step at a batch: its peak memory. */
  memory(ask: ProbeAsk<'memory'>): Promise<ProbeAnswer>;
  /** Timed training steps at a batch. */
  throughput(ask: ProbeAsk<'throughput'>): Promise<ProbeAnswer>;
  /** One step at each rate of a geometric ramp: the learning-rate range test. */
  rangeTest(ask: ProbeAsk<'learning-rate'>): Promise<ProbeAnswer>;
  /** The gradient noise scale over micro-batches. */
  noise(ask: ProbeAsk<'noise'>): Promise<ProbeAnswer>;
  /** A short run for a fixed wall time, then validation. */
  trial(ask: ProbeAsk<'trial'>): Promise<ProbeAnswer>;
  /** Ends the session. */
  close(): Promise<void>;
}

/**
 * The prober over a probe session in a trainer process. A probe that failed ends the process
 * (ProbeHost); the next probe starts a fresh one, which must come up on the same backend.
 */
export class ProbeSessionProber implements Prober {
  private readonly host: ProbeHost;
  private backend: BackendReport | undefined;
  private id = 0;

  constructor(session: ProbeSession, options: { spawn?: TrainerSpawner } = {}) {
    this.host = new ProbeHost(session, { spawn: options.spawn });
  }

  /** Processes started for this session (1 + replacements). */
  get processesStarted(): number {
    return this.host.processesStarted;
  }

  async start(): Promise<BackendReport> {
    this.backend = await this.host.start();
    return this.backend;
  }

  memory(ask: ProbeAsk<'memory'>): Promise<ProbeAnswer> {
    return this.run((id) => ({ kind: 'memory', id, ...ask }));
  }
  throughput(ask: ProbeAsk<'throughput'>): Promise<ProbeAnswer> {
    return this.run((id) => ({ kind: 'throughput', id, ...ask }));
  }
  rangeTest(ask: ProbeAsk<'learning-rate'>): Promise<ProbeAnswer> {
    return this.run((id) => ({ kind: 'learning-rate', id, ...ask }));
  }
  noise(ask: ProbeAsk<'noise'>): Promise<ProbeAnswer> {
    return this.run((id) => ({ kind: 'noise', id, ...ask }));
  }
  trial(ask: ProbeAsk<'trial'>): Promise<ProbeAnswer> {
    return this.run((id) => ({ kind: 'trial', id, ...ask }));
  }

  close(): Promise<void> {
    return this.host.close();
  }

  private async run(make: (id: number) => ProbeRequest): Promise<ProbeAnswer> {
    if (!this.backend) throw new Error('the probe session was not started');
    if (!this.host.running) {
      const again = await this.host.start();
      if (again.name !== this.backend.name) throw new Error(`the replacement probe process started ${again.name}, not ${this.backend.name}`);
    }
    return this.host.run(make(++this.id));
  }
}
