// Ten browsers watch one run live over the WebSocket of a real `serve` server: one of them starts
// it; every one of them hears it start, receives its metrics as they come (merged and thinned to
// ~10 updates a second, never beyond what is stored, the last step always included) and hears
// the final status, in that order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { decodeWire, encodeWire, TOKEN_PARAM, WS_PATH } from '../../src/shared/api/index.js';
import { ApiDispatcher } from '../../src/main/service/api-dispatch.js';
import { startAppServer } from '../../src/main/server/app-server.js';
import { removeDir, serviceWithSample, waitFor } from './helpers.js';

const CLIENTS = 10;

interface Watcher {
  ws: WebSocket;
  statuses: string[];
  steps: number[];
  metricsEvents: number;
  metricsAfterEnd: number;
  answers: Map<string | number, { ok: boolean; result?: unknown; error?: { message: string } }>;
}

test(`${CLIENTS} WebSocket clients watch one run live: all get its events and its final status`, { timeout: 120_000 }, async () => {
  const { service, datasetId, home } = await serviceWithSample(300);
  const dispatcher = new ApiDispatcher(service);
  const server = await startAppServer({ dispatcher, port: 0 });
  const watchers: Watcher[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}?${TOKEN_PARAM}=${encodeURIComponent(server.token)}`, {
        origin: `http://127.0.0.1:${server.port}`,
      });
      const w: Watcher = { ws, statuses: [], steps: [], metricsEvents: 0, metricsAfterEnd: 0, answers: new Map() };
      ws.on('message', (data) => {
        const msg = decodeWire(data.toString()) as {
          event?: string;
          data?: { runId: number; status?: string; steps?: { step: number }[] };
          id?: string | number;
          ok?: boolean;
        };
        if (msg.event === 'run-status') w.statuses.push(msg.data!.status!);
        else if (msg.event === 'run-metrics') {
          w.metricsEvents++;
          if (w.statuses.some((s) => s !== 'queued' && s !== 'running')) w.metricsAfterEnd++;
          w.steps.push(...msg.data!.steps!.map((s) => s.step));
        } else if (msg.id !== undefined) w.answers.set(msg.id, msg as never);
      });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      watchers.push(w);
    }
    // One of them starts the run; the others only listen.
    const starter = watchers[3]!;
    starter.ws.send(
      encodeWire({
        id: 'go',
        method: 'startTraining',
        params: { dataset: datasetId, config: { model: 'mlp', batchSize: 16, epochs: 1000, backend: 'cpu' }, maxSteps: 60 },
      }),
    );
    await waitFor(() => starter.answers.has('go'), 30_000, 'the start answer');
    const answer = starter.answers.get('go')!;
    assert.ok(answer.ok, answer.error?.message);
    const runId = (answer.result as { runId: number }).runId;

    await waitFor(() => watchers.every((w) => w.statuses.includes('completed')), 90_000, 'every client hearing the end');
    const run = service.getRun(runId);
    assert.equal(run.status, 'completed', run.error ?? '');
    const stored = new Set(service.runSteps(runId).map((s) => s.step));
    watchers.forEach((w, i) => {
      assert.deepEqual(
        w.statuses.filter((s, j) => w.statuses.indexOf(s) === j),
        ['queued', 'running', 'completed'],
        `client ${i}: statuses ${w.statuses.join(',')}`,
      );
      assert.ok(w.metricsEvents >= 2, `client ${i} got live metrics (${w.metricsEvents} events)`);
      assert.equal(w.metricsAfterEnd, 0, `client ${i}: no metrics after the final status`);
      for (const s of w.steps) assert.ok(stored.has(s), `client ${i}: step ${s} is not stored`);
      assert.equal(Math.max(...w.steps), run.steps, `client ${i} saw the last step`);
      assert.deepEqual(
        w.steps,
        [...w.steps].sort((a, b) => a - b),
        `client ${i}: steps in order`,
      );
    });
    const counts = watchers.map((w) => w.metricsEvents);
    console.log(`# ${CLIENTS} clients; run ${runId}: ${run.steps} steps; metrics events per client ${Math.min(...counts)}–${Math.max(...counts)}`);
  } finally {
    for (const w of watchers) w.ws.close();
    await server.close();
    dispatcher.close();
    await service.close();
    removeDir(home);
  }
});
