// Entry of a trainer process: one job, one backend, then exit. It runs under Node's
// child_process.fork or Electron's utilityProcess.fork; both deliver messages, through
// different objects. An out-of-memory abort or native crash here ends only this process.
// Instead of a training job, a process may run one probe session of the batch-size search
// ('start-probes', 'probe'…, 'end': see src/shared/probe-protocol.ts and ../tuner/).
import path from 'node:path';
import { hostMessageSchema, type TrainerMessage, type TrainJob, type FailureCause, type RunSummary } from '../../../shared/trainer-protocol.js';
import { describeSchemaError } from '../../../shared/schema-errors.js';
import { looksLikeOutOfMemory } from '../../../shared/failure-text.js';
import { ModelTopologyError } from '../../../shared/model-topology.js';
import { backendMemoryBytes, BackendUnavailableError, selectBackend } from '../backends/select-backend.js';
import { loadDataset } from '../datasets/index.js';
import { modelAcceptsShape } from '../models/build-model.js';
import { saveModelToDir } from '../models/model-files.js';
import { exportMetadata } from '../models/export-metadata.js';
import { createNet } from '../models/create-net.js';
import { runTrainingLoop, TrainingDivergedError, type BatchChange } from '../training/train-loop.js';
import { CheckpointError } from '../training/checkpoint-folder.js';
import { EventBatcher } from './event-batcher.js';
import type { ProbeTrainerMessage } from '../../../shared/probe-protocol.js';
import { isProbeHostMessage, ProbeSessionController } from '../tuner/probe-session.js';
import { activateCappedBackend } from '../tuner/capped-backend.js';
import { classifyProbeFailure, currentWasmHeapBytes, guardWasmAllocations } from '../tuner/probe-failure.js';

interface ParentPort {
  postMessage(msg: unknown): void;
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

/** Sends a message; the promise settles (it never rejects) once Node has handed it to the channel. */
function handOver(msg: TrainerMessage | ProbeTrainerMessage): Promise<void> {
  if (parentPort) {
    parentPort.postMessage(msg);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

/** Sends a message without waiting for it to leave (the last one is waited for with handOver). */
function send(msg: TrainerMessage | ProbeTrainerMessage): void {
  void handOver(msg);
}

function onHostMessage(cb: (raw: unknown) => void): void {
  if (parentPort) parentPort.on('message', (e) => cb(e.data));
  else process.on('message', cb);
}

let stopRequested = false;
let pendingBatch: BatchChange | undefined;
let jobStarted = false;
let probes: ProbeSessionController | undefined;

function classifyFailure(err: unknown, backend: string | undefined): FailureCause {
  if (err instanceof TrainingDivergedError) return 'diverged';
  if (err instanceof BackendUnavailableError) return 'backend';
  // A start model that cannot be fine-tuned (or adapted to this dataset) is the run's settings' fault.
  if (err instanceof ModelTopologyError) return 'bad-config';
  // A checkpoint that cannot be resumed from (another model, a changed dataset, damaged files).
  if (err instanceof CheckpointError) return 'bad-config';
  // The probes' rules: WebGPU's scope errors and lost device, wasm's guarded allocations and its
  // aborts near the 4 GiB heap.
  if (backend && classifyProbeFailure(err, backend, currentWasmHeapBytes()).cause === 'oom') return 'oom';
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  if (looksLikeOutOfMemory(text)) return 'oom';
  return 'error';
}

async function runJob(job: TrainJob): Promise<void> {
  const batcher = new EventBatcher((b) => send({ type: 'metrics', steps: b.steps, epochs: b.epochs }));
  let lastSummary: RunSummary | undefined;
  let backend: string | undefined;
  try {
    const report =
      job.memoryCapBytes !== undefined ? await activateCappedBackend(job.config.backend, job.memoryCapBytes) : await selectBackend(job.config.backend);
    backend = report.name;
    // tfjs-backend-wasm passes sizes of 4 GiB or more to malloc truncated and never checks what it
    // returns: without the guard a batch too large for the heap trains on corrupt memory.
    if (report.name === 'wasm') guardWasmAllocations();
    send({ type: 'backend', report });
    let dataset;
    try {
      dataset = loadDataset(job.datasetDir);
    } catch (err) {
      send({ type: 'failed', cause: 'dataset', message: `could not load the dataset: ${(err as Error).message}` });
      return;
    }
    const shapeProblem = job.config.startFrom || job.config.model === 'imported' ? null : modelAcceptsShape(job.config.model, dataset.manifest.inputShape);
    if (shapeProblem) {
      send({ type: 'failed', cause: 'bad-config', message: shapeProblem });
      return;
    }
    const { inputShape, classes, normalization } = dataset.manifest;
    const { config } = job;
    const startModel =
      config.startFrom && job.startModelDir
        ? { dir: job.startModelDir, unfreeze: config.startFrom.unfreeze, fineTuneRateFactor: config.startFrom.fineTuneLearningRate / config.learningRate }
        : undefined;
    if (config.startFrom && !startModel) {
      send({ type: 'failed', cause: 'bad-config', message: 'the run starts from a trained model, but the job names no copy of it (startModelDir)' });
      return;
    }
    const net = await createNet({ model: config.model, inputShape, classes: classes.length, normalization, seed: config.seed, startModel });
    const result = await runTrainingLoop({
      dataset,
      net,
      config: job.config,
      maxSteps: job.maxSteps,
      shouldStop: () => stopRequested,
      onStep: (s) => batcher.addStep(s),
      onEpoch: (e) => batcher.addEpoch(e),
      memoryBytes: backendMemoryBytes,
      evaluate: job.artifactDir !== undefined,
      ...(job.checkpoints ? { checkpoints: job.checkpoints } : {}),
      ...(job.resume ? { resumeFrom: job.resume.checkpointDir } : {}),
      ...(job.adaptive
        ? {
            adaptive: job.adaptive,
            onNoise: (n) => send({ type: 'noise', ...n }),
            takeBatchChange: () => {
              const change = pendingBatch;
              pendingBatch = undefined;
              return change;
            },
            onBatchChanged: (c) => {
              batcher.flush(); // the steps before it leave first
              send({ type: 'batch-changed', ...c });
            },
          }
        : {}),
      onCheckpoint: (c) => {
        // The steps before it leave first: the host may resume from it the moment it hears of it.
        batcher.flush();
        send({ type: 'checkpoint', ...c });
      },
    });
    lastSummary = result.summary;
    batcher.flush();
    let artifact: { path: string; bytes: number } | undefined;
    if (job.artifactDir && result.status === 'completed') {
      artifact = await saveModelToDir(result.model, path.join(job.artifactDir, 'model'), exportMetadata(job, dataset.manifest, result.model));
    }
    result.model.dispose();
    send({ type: 'done', status: result.status, summary: result.summary, artifact, evaluation: result.evaluation });
  } catch (err) {
    batcher.flush();
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    const phase = (err as { phase?: unknown } | undefined)?.phase === 'validation' ? ('validation' as const) : undefined;
    send({ type: 'failed', cause: classifyFailure(err, backend), message, summary: lastSummary, ...(phase ? { phase } : {}) });
  }
}

function main(): void {
  const heartbeat = setInterval(() => send({ type: 'heartbeat', time: Date.now() }), 1000);
  heartbeat.unref();
  // If the host goes away, nobody wants this job's results: stop instead of training for no one.
  process.on('disconnect', () => process.exit(0));
  onHostMessage((raw) => {
    if (isProbeHostMessage(raw)) {
      if (jobStarted) {
        send({ type: 'failed', cause: 'bad-config', message: 'this trainer process runs a training job: it takes no probe messages' });
        return;
      }
      probes ??= new ProbeSessionController({
        send: handOver,
        exit: (code) => {
          clearInterval(heartbeat);
          process.exit(code);
        },
      });
      probes.handle(raw);
      return;
    }
    const parsed = hostMessageSchema.safeParse(raw);
    if (!parsed.success) {
      send({ type: 'failed', cause: 'bad-config', message: `invalid message from host: ${describeSchemaError(parsed.error)}` });
      return;
    }
    const msg = parsed.data;
    if (msg.type === 'stop') {
      stopRequested = true;
      return;
    }
    if (msg.type === 'set-batch') {
      // Taken by the loop before its next step (an adaptive run's host decided it).
      pendingBatch = { batchSize: msg.batchSize, learningRate: msg.learningRate, rampSteps: msg.rampSteps };
      return;
    }
    if (jobStarted) return; // one job per process
    if (probes) {
      send({ type: 'failed', cause: 'bad-config', message: 'this trainer process runs a probe session: start a new process for a training job' });
      return;
    }
    jobStarted = true;
    void runJob(msg.job).finally(async () => {
      clearInterval(heartbeat);
      // The terminal message was queued by runJob; an empty round trip makes sure it left.
      await handOver({ type: 'heartbeat', time: Date.now() });
      process.exit(0);
    });
  });
  send({ type: 'ready', pid: process.pid });
}

main();
