// Following a job the CLI started through the API (src/shared/api/jobs.ts waits for its end):
// its live events drive a progress bar on a terminal, and Ctrl-C asks the service to stop it (a
// second Ctrl-C quits at once).
import { runToEnd, tuningToEnd, type Api, type RunDetail, type TuningDetail } from '../../shared/api/index.js';
import { formatBytes } from '../../shared/format.js';
import { createProgress, formatPercent } from './output.js';
import { startFromText } from './start-model-flags.js';

/** Runs `stop` on the first Ctrl-C, quits on the second; returns the function that removes the handler. */
function onInterrupt(what: string, stop: () => Promise<unknown>): () => void {
  let interrupts = 0;
  const handler = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`\nStopping ${what}… (Ctrl-C again to quit at once)\n`);
    // A job that ended meanwhile cannot be stopped: its end arrives as usual.
    stop().catch(() => {});
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/** Starts a run with `start`, shows its progress, and resolves with its detail once it ended. */
export async function followRun(api: Api, start: () => Promise<{ runId: number }>, json: boolean): Promise<RunDetail> {
  const progress = createProgress('Training', { json });
  let totalSteps = 0;
  let lastVal = '—';
  let removeInterrupt = () => {};
  try {
    return await runToEnd(api, start, {
      started: async (runId) => {
        removeInterrupt = onInterrupt(`run ${runId}`, () => api.stopTraining({ runId }));
        const { run } = await api.getRun({ runId, maxPoints: 10, misclassifiedLimit: 0 });
        if (!json && run.config.startFrom) process.stderr.write(`Run ${runId}: starting from ${startFromText(run.config.startFrom)}\n`);
        const dataset = await api.getDataset({ dataset: run.datasetId, previewsPerClass: 0 });
        totalSteps = Math.ceil(dataset.split.trainCount / run.config.batchSize) * run.config.epochs;
      },
      backend: (e) => {
        if (json) return;
        process.stderr.write(`Run ${e.runId}: training on ${e.report.device} [${e.report.name}]\n`);
        for (const s of e.report.skipped) process.stderr.write(`  skipped ${s.backend}: ${s.reason}\n`);
      },
      metrics: (e) => {
        for (const ep of e.epochs) lastVal = formatPercent(ep.valAccuracy);
        const s = e.steps.at(-1);
        if (s && totalSteps)
          progress.update(s.step, totalSteps, {
            loss: s.loss.toFixed(4),
            'samples/s': Math.round(s.samplesPerSecond),
            mem: formatBytes(s.memoryBytes),
            'val acc': lastVal,
          });
      },
    });
  } finally {
    removeInterrupt();
    progress.stop();
  }
}

/** Starts an Auto-tune search with `start`, shows its phase, and resolves with its detail once it ended. */
export async function followTuning(api: Api, start: () => Promise<{ sessionId: number }>, json: boolean): Promise<TuningDetail> {
  const progress = createProgress('Tuning', { json }, '{bar} {phase} | batch {batch} | ETA {eta_s}');
  let removeInterrupt = () => {};
  try {
    return await tuningToEnd(api, start, {
      started: (sessionId) => {
        removeInterrupt = onInterrupt(`tuning session ${sessionId}`, () => api.stopTuning({ sessionId }));
      },
      progress: (p) => {
        // The ETA in probes of ~0.3 s: a bar that moves with the search, not a promise of its length.
        const total = p.trial + Math.max(1, Math.round((p.etaSeconds ?? 1) / 0.3));
        progress.update(p.trial, total, { phase: p.phase, batch: p.batchSize ?? '—', eta_s: p.etaSeconds === null ? '?' : `${p.etaSeconds}s` });
      },
    });
  } finally {
    removeInterrupt();
    progress.stop();
  }
}
