// The host's side of the protocol, against a scripted fake process: every way a trainer can
// end becomes exactly one outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainerHost, type TrainerProcess } from '../../../src/main/service/trainer-host.js';
import type { HostMessage, TrainJob } from '../../../src/shared/trainer-protocol.js';

const job: TrainJob = {
  kind: 'train',
  runId: 1,
  datasetDir: '/nowhere',
  config: { model: 'small', batchSize: 8, epochs: 1, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'cpu', seed: 1 },
};

class FakeProcess implements TrainerProcess {
  readonly pid = 4242;
  sent: HostMessage[] = [];
  killed: (NodeJS.Signals | undefined)[] = [];
  private messageCb: (m: unknown) => void = () => {};
  private exitCb: (c: number | null, s: NodeJS.Signals | null) => void = () => {};
  send(msg: HostMessage) {
    this.sent.push(msg);
  }
  kill(signal?: NodeJS.Signals) {
    this.killed.push(signal);
    setImmediate(() => this.exitCb(null, signal ?? 'SIGTERM'));
  }
  onMessage(cb: (m: unknown) => void) {
    this.messageCb = cb;
  }
  onExit(cb: (c: number | null, s: NodeJS.Signals | null) => void) {
    this.exitCb = cb;
  }
  emit(msg: unknown) {
    this.messageCb(msg);
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null) {
    this.exitCb(code, signal);
  }
  stderrTail() {
    return 'RangeError: WebAssembly.Memory(): could not allocate memory\n    at foo (x.js:1)';
  }
}

const summary = { steps: 3, epochsCompleted: 1, trainSeconds: 1, samplesPerSecond: 24, bestValAccuracy: 0.5, finalValAccuracy: 0.5 };
const step = (n: number) => ({ step: n, epoch: 1, time: n, loss: 1, accuracy: 0.5, samplesPerSecond: 8, stepMs: 1, memoryBytes: 0, learningRate: 1e-3 });

test('sends the job, relays metrics, and ends completed after the process exits', async () => {
  const fake = new FakeProcess();
  const host = new TrainerHost(job, { spawn: () => fake });
  assert.deepEqual(fake.sent[0], { type: 'start', job });
  const seen: number[] = [];
  host.on('metrics', (m) => seen.push(...m.steps.map((s) => s.step)));
  fake.emit({ type: 'ready', pid: 4242 });
  fake.emit({ type: 'metrics', steps: [step(1), step(2)], epochs: [] });
  fake.emit({ type: 'metrics', steps: [step(3)], epochs: [] });
  fake.emit({ type: 'done', status: 'completed', summary });
  fake.exit(0);
  const outcome = await host.done;
  assert.equal(outcome.status, 'completed');
  assert.deepEqual(seen, [1, 2, 3]);
});

test('killed by a signal without a final message: interrupted', async () => {
  const fake = new FakeProcess();
  const host = new TrainerHost(job, { spawn: () => fake });
  fake.exit(null, 'SIGKILL');
  const outcome = await host.done;
  assert.equal(outcome.status, 'interrupted');
  assert.match((outcome as { message: string }).message, /SIGKILL/);
});

test('a crash with an allocation failure on stderr is reported as out of memory', async () => {
  const fake = new FakeProcess();
  const host = new TrainerHost(job, { spawn: () => fake });
  fake.exit(7);
  const outcome = await host.done;
  assert.equal(outcome.status, 'failed');
  assert.equal((outcome as { cause: string }).cause, 'oom');
  assert.match((outcome as { message: string }).message, /exited with code 7.*could not allocate/);
});

test('an invalid message fails the job and kills the process', async () => {
  const fake = new FakeProcess();
  const host = new TrainerHost(job, { spawn: () => fake });
  fake.emit({ type: 'metrics', steps: [{ step: 'one' }], epochs: [] });
  const outcome = await host.done;
  assert.equal(outcome.status, 'failed');
  assert.match((outcome as { message: string }).message, /invalid message/);
  assert.deepEqual(fake.killed, ['SIGKILL']);
});

test('a silent process whose CPU time cannot be read is declared hung and killed', async () => {
  const fake = new FakeProcess();
  const host = new TrainerHost(job, { spawn: () => fake, heartbeatTimeoutMs: 150 });
  const outcome = await host.done;
  assert.equal(outcome.status, 'failed');
  assert.equal((outcome as { cause: string }).cause, 'hung');
  assert.match((outcome as { message: string }).message, /^the trainer process sent nothing for 0\.\d s \(its CPU time cannot be read/);
  assert.deepEqual(fake.killed, ['SIGKILL']);
});

/** A fake whose CPU clock runs at `rate` seconds per second. */
class BusyFake extends FakeProcess {
  private readonly t0 = Date.now();
  constructor(private readonly rate: number) {
    super();
  }
  cpuSeconds() {
    return Promise.resolve((this.rate * (Date.now() - this.t0)) / 1000);
  }
}

test('a silent process using no CPU time is hung, and the message says so', async () => {
  const fake = new BusyFake(0);
  const host = new TrainerHost(job, { spawn: () => fake, heartbeatTimeoutMs: 150 });
  const outcome = await host.done;
  assert.equal((outcome as { cause: string }).cause, 'hung');
  assert.match((outcome as { message: string }).message, /^the trainer process sent nothing for 0\.\d s and used no CPU time .*: it was stuck and was ended$/);
  assert.deepEqual(fake.killed, ['SIGKILL']);
});

test('a silent process computing is left alone, then its run completes when it speaks again', async () => {
  const fake = new BusyFake(1);
  const host = new TrainerHost(job, { spawn: () => fake, heartbeatTimeoutMs: 200 });
  await new Promise((r) => setTimeout(r, 700)); // 3.5× the timeout, silent (the limit is 10×)
  assert.deepEqual(fake.killed, []);
  fake.emit({ type: 'done', status: 'completed', summary });
  fake.exit(0);
  assert.equal((await host.done).status, 'completed');
});

test('a silent process computing past 10× the timeout is ended as over the limit', async () => {
  const fake = new BusyFake(1);
  const t0 = Date.now();
  const host = new TrainerHost(job, { spawn: () => fake, heartbeatTimeoutMs: 100 });
  const outcome = await host.done;
  assert.ok(Date.now() - t0 >= 1000, 'not before the limit');
  assert.equal((outcome as { cause: string }).cause, 'hung');
  assert.match(
    (outcome as { message: string }).message,
    /while computing \(0\.\d s of CPU time in the last 0\.\d s\), past the limit of 1\.0 s for one silent step and was ended$/,
  );
});

test('stop: asks first, kills after the grace period, and ends stopped', async () => {
  const fake = new FakeProcess();
  const host = new TrainerHost(job, { spawn: () => fake, stopGraceMs: 100 });
  const t0 = Date.now();
  host.stop();
  assert.deepEqual(fake.sent[1], { type: 'stop' });
  const outcome = await host.done;
  assert.equal(outcome.status, 'stopped');
  assert.ok(Date.now() - t0 < 1000);
  assert.deepEqual(fake.killed, ['SIGKILL']);
});
