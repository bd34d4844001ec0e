// The probe session of a trainer process: 'start-probes' (backend, dataset, model), then one
// answer per 'probe', then 'end'. Messages are handled one at a time in arrival order. A probe
// that fails with the process still sound answers 'probe-failed'; one that killed the backend
// answers 'probe-failed' with fatal set and the process exits (the service starts a new one).
import type { BackendReport } from '../../../shared/run-types.js';
import { describeSchemaError } from '../../../shared/schema-errors.js';
import type { TrainerMessage } from '../../../shared/trainer-protocol.js';
import { probeHostMessageSchema, type ProbeRequest, type ProbeSession, type ProbeTrainerMessage } from '../../../shared/probe-protocol.js';
import { BackendUnavailableError, selectBackend } from '../backends/select-backend.js';
import { loadDataset } from '../datasets/index.js';
import { modelAcceptsShape } from '../models/build-model.js';
import { activateCappedBackend } from './capped-backend.js';
import { classifyProbeFailure, currentWasmHeapBytes, guardWasmAllocations } from './probe-failure.js';
import { createNet } from '../models/create-net.js';
import { ProbeRunner } from './probe-runner.js';

export interface ProbeSessionIo {
  /** Sends a message; resolves once it has been handed to the channel. */
  send(msg: TrainerMessage | ProbeTrainerMessage): Promise<void>;
  /** Ends the process (called after the last message was sent). */
  exit(code: number): void;
}

const PROBE_MESSAGE_TYPES = new Set(['start-probes', 'probe', 'end']);

/** Whether a host message belongs to the probe protocol (it is then checked against its schema). */
export function isProbeHostMessage(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && PROBE_MESSAGE_TYPES.has((raw as { type?: unknown }).type as string);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

export class ProbeSessionController {
  private state: 'idle' | 'started' | 'ended' = 'idle';
  private runner: ProbeRunner | undefined;
  private backend = '';
  /** Messages are handled in order, each after the previous one finished. */
  private queue: Promise<void> = Promise.resolve();
  private dead = false;

  constructor(private readonly io: ProbeSessionIo) {}

  /** Handles one raw host message of the probe protocol. */
  handle(raw: unknown): void {
    const parsed = probeHostMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const why = `invalid probe message from host: ${describeSchemaError(parsed.error)}`;
      const id = (raw as { request?: { id?: unknown } }).request?.id;
      if ((raw as { type?: unknown }).type === 'probe' && typeof id === 'number' && Number.isInteger(id)) {
        void this.io.send({ type: 'probe-failed', id, cause: 'error', message: why });
      } else {
        void this.io.send({ type: 'failed', cause: 'bad-config', message: why });
      }
      return;
    }
    const msg = parsed.data;
    if (msg.type === 'start-probes') {
      if (this.state !== 'idle') {
        void this.io.send({
          type: 'failed',
          cause: 'bad-config',
          message: `a probe session was already ${this.state === 'ended' ? 'ended' : 'started'} in this process: start a new process for another session`,
        });
        return;
      }
      this.state = 'started';
      this.enqueue(() => this.start(msg.session));
    } else if (msg.type === 'probe') {
      const id = msg.request.id;
      if (this.state !== 'started') {
        const message = this.state === 'idle' ? 'no probe session: send start-probes before any probe' : 'the probe session has ended';
        void this.io.send({ type: 'probe-failed', id, cause: 'error', message });
        return;
      }
      this.enqueue(() => this.probe(msg.request));
    } else {
      this.state = 'ended';
      this.enqueue(() => this.finish(0));
    }
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue
      .then(() => (this.dead ? undefined : task()))
      .catch(async (err: unknown) => {
        // Not expected (each task reports its own failures); the process must not go on unsure.
        await this.io.send({ type: 'failed', cause: 'error', message: `probe session: ${firstLine(err)}` });
        await this.finish(1);
      });
  }

  private async start(session: ProbeSession): Promise<void> {
    let report: BackendReport;
    try {
      report =
        session.memoryCapBytes !== undefined ? await activateCappedBackend(session.backend, session.memoryCapBytes) : await selectBackend(session.backend);
    } catch (err) {
      const message = err instanceof BackendUnavailableError ? err.message : `the backend could not start: ${firstLine(err)}`;
      return this.failStart('backend', message);
    }
    this.backend = report.name;
    if (report.name === 'wasm') guardWasmAllocations();
    await this.io.send({ type: 'backend', report });
    let dataset;
    try {
      dataset = loadDataset(session.datasetDir);
    } catch (err) {
      return this.failStart('dataset', `could not load the dataset: ${firstLine(err)}`);
    }
    const shapeProblem = session.startModel || session.model === 'imported' ? null : modelAcceptsShape(session.model, dataset.manifest.inputShape);
    if (shapeProblem) return this.failStart('bad-config', shapeProblem);
    try {
      const { inputShape, classes, normalization } = dataset.manifest;
      const net = await createNet({
        model: session.model,
        inputShape,
        classes: classes.length,
        normalization,
        seed: session.seed,
        startModel: session.startModel,
      });
      this.runner = new ProbeRunner({ dataset, net, optimizer: session.optimizer, seed: session.seed, momentum: session.momentum, augment: session.augment });
    } catch (err) {
      const failure = classifyProbeFailure(err, this.backend, currentWasmHeapBytes());
      return this.failStart(failure.cause, `could not build the model: ${failure.message}`);
    }
  }

  /** A session that cannot start is over: report it, then exit. */
  private async failStart(cause: 'backend' | 'dataset' | 'bad-config' | 'oom' | 'error', message: string): Promise<void> {
    this.state = 'ended';
    await this.io.send({ type: 'failed', cause, message });
    await this.finish(0);
  }

  private async probe(request: ProbeRequest): Promise<void> {
    const runner = this.runner;
    if (!runner) {
      await this.io.send({ type: 'probe-failed', id: request.id, cause: 'error', message: 'the probe session did not start' });
      return;
    }
    try {
      const result = await runner.run(request);
      await this.io.send({ type: 'probe-result', id: request.id, result });
    } catch (err) {
      const failure = classifyProbeFailure(err, this.backend, currentWasmHeapBytes());
      await this.io.send({ type: 'probe-failed', id: request.id, cause: failure.cause, message: failure.message, ...(failure.fatal ? { fatal: true } : {}) });
      if (failure.fatal) await this.finish(1);
    }
  }

  private async finish(code: number): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    this.state = 'ended';
    try {
      if (code === 0) this.runner?.dispose();
    } catch {
      // exiting anyway
    }
    this.runner = undefined;
    // An empty round trip makes sure the messages before it have left.
    await this.io.send({ type: 'heartbeat', time: Date.now() });
    this.io.exit(code);
  }
}
