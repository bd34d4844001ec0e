// The prober over a probe session (src/main/service/tuning/prober.ts), against scripted fake
// processes: requests are numbered, a failed probe's process is replaced before the next probe,
// and a replacement on another backend ends the search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainerProcess } from '../../../src/main/service/trainer-host.js';
import { ProbeSessionProber } from '../../../src/main/service/tuning/prober.js';
import type { ProbeHostMessage, ProbeSession } from '../../../src/shared/probe-protocol.js';

const session: ProbeSession = { kind: 'probe-session', datasetDir: '/nowhere', model: 'mlp', optimizer: 'adam', backend: 'auto', seed: 1 };

/** A probe process on `backend` that answers memory probes, failing (oom) those above `oomAbove`. */
function fakeProcess(backend: string, oomAbove: number, sent: ProbeHostMessage[]): TrainerProcess {
  let onMessage: (m: unknown) => void = () => {};
  let onExit: (c: number | null, s: NodeJS.Signals | null) => void = () => {};
  const reply = (m: unknown) => setImmediate(() => onMessage(m));
  return {
    pid: 1,
    send(msg) {
      const m = msg as ProbeHostMessage;
      sent.push(m);
      if (m.type === 'start-probes') reply({ type: 'backend', report: { name: backend, device: 'fake', skipped: [] } });
      else if (m.type === 'end') setImmediate(() => onExit(0, null));
      else if (m.request.kind === 'memory' && m.request.batchSize > oomAbove)
        reply({ type: 'probe-failed', id: m.request.id, cause: 'oom', message: 'out of memory' });
      else reply({ type: 'probe-result', id: m.request.id, result: { kind: 'memory', peakBytes: 10, stepMs: 1, engineBytes: 10 } });
    },
    kill: () => setImmediate(() => onExit(null, 'SIGKILL')),
    onMessage: (cb) => (onMessage = cb),
    onExit: (cb) => (onExit = cb),
  };
}

test('a failed probe ends its process; the next probe starts a fresh one; requests are numbered', async () => {
  const sent: ProbeHostMessage[] = [];
  const prober = new ProbeSessionProber(session, { spawn: () => fakeProcess('wasm', 100, sent) });
  assert.equal((await prober.start()).name, 'wasm');
  assert.equal((await prober.memory({ batchSize: 8 })).ok, true);
  const failed = await prober.memory({ batchSize: 200 });
  assert.ok(!failed.ok && failed.cause === 'oom');
  assert.equal(prober.processesStarted, 1);
  assert.equal((await prober.memory({ batchSize: 16 })).ok, true);
  assert.equal(prober.processesStarted, 2, 'replaced after the failure');
  await prober.close();
  assert.deepEqual(
    sent.map((m) => (m.type === 'probe' ? `${m.request.id}:${m.request.kind === 'memory' ? m.request.batchSize : ''}` : m.type)),
    ['start-probes', '1:8', '2:200', 'end', 'start-probes', '3:16', 'end'],
  );
});

test('a replacement process on another backend is an error, not a measurement', async () => {
  const backends = ['webgpu', 'cpu'];
  const prober = new ProbeSessionProber(session, { spawn: () => fakeProcess(backends.shift()!, 100, []) });
  await prober.start();
  await prober.memory({ batchSize: 200 });
  await assert.rejects(prober.memory({ batchSize: 8 }), /the replacement probe process started cpu, not webgpu/);
  await prober.close();
});

test('probing before start is an error', async () => {
  const prober = new ProbeSessionProber(session, { spawn: () => fakeProcess('wasm', 100, []) });
  await assert.rejects(prober.memory({ batchSize: 8 }), /not started/);
});
