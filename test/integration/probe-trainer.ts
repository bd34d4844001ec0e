// A trainer process driven over the probe protocol, for integration tests: fork the trainer
// entry, send host messages, read its answers (each checked against the protocol schemas).
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainerMessageSchema, type TrainerMessage } from '../../src/shared/trainer-protocol.js';
import { probeTrainerMessageSchema, type ProbeHostMessage, type ProbeTrainerMessage } from '../../src/shared/probe-protocol.js';
import { importDataset } from '../../src/main/engine/datasets/index.js';

const ENTRY = fileURLToPath(new URL('../../src/main/engine/trainer/trainer-main.js', import.meta.url));

export type Message = TrainerMessage | ProbeTrainerMessage;

export class Trainer {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private readonly inbox: Message[] = [];
  private wake: (() => void) | undefined;
  stderr = '';

  constructor() {
    this.child = fork(ENTRY, [], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], execArgv: [], serialization: 'advanced' });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.child.on('message', (raw) => {
      const probe = probeTrainerMessageSchema.safeParse(raw);
      const other = trainerMessageSchema.safeParse(raw);
      assert.ok(probe.success || other.success, `invalid message from the trainer: ${JSON.stringify(raw)}`);
      const msg = (probe.success ? probe.data : other.data) as Message;
      if (msg.type === 'heartbeat') return;
      this.inbox.push(msg);
      this.wake?.();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  send(msg: ProbeHostMessage | Record<string, unknown>): void {
    this.child.send(msg);
  }

  /** The next message (heartbeats aside), within `ms`. */
  async next(ms = 60_000): Promise<Message> {
    const deadline = Date.now() + ms;
    while (this.inbox.length === 0) {
      if (Date.now() > deadline) throw new Error(`no message from the trainer within ${ms} ms; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    return this.inbox.shift()!;
  }

  async probe(request: Extract<ProbeHostMessage, { type: 'probe' }>['request']): Promise<Extract<Message, { type: 'probe-result' | 'probe-failed' }>> {
    this.send({ type: 'probe', request });
    const msg = await this.next();
    assert.ok(msg.type === 'probe-result' || msg.type === 'probe-failed', `answer to probe ${request.id}: ${JSON.stringify(msg)}`);
    assert.equal(msg.id, request.id);
    return msg;
  }
}

export async function mnist(limit: number): Promise<{ dir: string; cleanup(): void }> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'probe-session-'));
  const dir = path.join(tmp, 'mnist');
  await importDataset('sample:mnist', { limit }, dir);
  return { dir, cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}
