// The one front door: every client of the core — the CLI, `autobatch serve`, the Electron shell,
// the benchmarks — opens it here and talks to the service only through the API contract and its
// dispatcher (docs/architecture.md §3.2). The service and its store stay inside: a client gets
// the direct transport (`api`) and, to put another transport in front (IPC, WebSocket), the
// dispatcher.
import { Buffer } from 'node:buffer';
import type { Api, ExportFile } from '../../shared/api/index.js';
import { ApiDispatcher, type ClientKind } from './api-dispatch.js';
import { createDirectApi } from './api-direct.js';
import type { DesktopHandlers } from './api-handlers.js';
import type { EntryRunner } from './backend-detect.js';
import type { CoalescerOptions } from './event-coalescer.js';
import { AutoBatchService, type PythonSpawnerFactory } from './service.js';
import type { TrainerSpawner } from './trainer-host.js';
import type { ProbeSessionProber } from './tuning/prober.js';
import type { BackendChoice, ModelKind } from '../../shared/run-types.js';

export interface AppCoreOptions {
  /** The data folder (database, datasets, models). */
  home: string;
  client: ClientKind;
  /** The desktop shell's native dialogs, given the API they may use (saveExport builds its file through it). */
  desktop?: (api: () => Api) => DesktopHandlers;
  /** Keep a trainer process started while idle (long-lived clients: the desktop app, serve, benchmarks). */
  warmTrainer?: boolean;
  spawn?: TrainerSpawner;
  entryRunner?: EntryRunner;
  /** `--python`: the interpreter tried first for the torch rungs. */
  python?: string;
  /** Starts the Python trainer for a torch rung (python-trainer.ts). */
  pythonSpawner?: PythonSpawnerFactory;
  heartbeatTimeoutMs?: number;
  /** Check every result against the contract (tests). */
  validateResults?: boolean;
  /** Live events of the direct transport; benchmarks pass { intervalMs: 0 } to hear every step at once. */
  coalescer?: CoalescerOptions;
}

export interface AppCore {
  /** The direct transport: the API in this process, validated like every other. */
  readonly api: Api;
  /** For another transport in front of the same service (IPC, WebSocket). */
  readonly dispatcher: ApiDispatcher;
  /**
   * Benchmarks: a probe session on a stored dataset, routed as a search's (not started; the
   * caller starts and closes it). Not part of the API: no client needs a bare probe.
   */
  openProber(datasetId: number, o: { model: ModelKind; backend: BackendChoice; seed: number }): Promise<ProbeSessionProber>;
  /** Stops running jobs (stored as stopped), detaches every transport and closes the database. */
  close(): Promise<void>;
}

export function openAppCore(options: AppCoreOptions): AppCore {
  const service = new AutoBatchService({
    home: options.home,
    ...(options.warmTrainer ? { warmTrainer: true } : {}),
    ...(options.spawn ? { spawn: options.spawn } : {}),
    ...(options.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: options.heartbeatTimeoutMs } : {}),
    ...(options.entryRunner ? { entryRunner: options.entryRunner } : {}),
    ...(options.python ? { python: options.python } : {}),
    ...(options.pythonSpawner ? { pythonSpawner: options.pythonSpawner } : {}),
  });
  // The desktop handlers call the API only when a dialog is used, long after it exists.
  const apiOf = (): Api => api;
  const dispatcher = new ApiDispatcher(service, {
    client: options.client,
    ...(options.desktop ? { desktop: options.desktop(apiOf) } : {}),
    ...(options.entryRunner ? { entryRunner: options.entryRunner } : {}),
    ...(options.validateResults ? { validateResults: true } : {}),
    ...(options.coalescer ? { coalescer: options.coalescer } : {}),
  });
  const api = createDirectApi(dispatcher, options.coalescer ? { coalescer: options.coalescer } : {});
  let closing: Promise<void> | undefined;
  return {
    api,
    dispatcher,
    openProber: (datasetId, o) => service.openProber(datasetId, o),
    close() {
      closing ??= (async () => {
        dispatcher.flushEvents();
        try {
          await service.close();
        } finally {
          dispatcher.close();
        }
      })();
      return closing;
    },
  };
}

/** The bytes of an export the API answered (CSV as text, the model archive as base64). */
export function exportFileBytes(file: ExportFile): Buffer {
  if (file.text !== undefined) return Buffer.from(file.text, 'utf8');
  if (file.base64 !== undefined) return Buffer.from(file.base64, 'base64');
  throw new Error(`the export ${file.fileName} came without its content`);
}

/** A run's CSV or model, through the API: file name, type and bytes (downloads, save dialogs). */
export async function exportRun(api: Api, runId: number, kind: 'csv' | 'model'): Promise<{ fileName: string; mimeType: string; bytes: Buffer }> {
  const file = kind === 'csv' ? await api.exportRunCsv({ runId }) : await api.exportModel({ runId });
  return { fileName: file.fileName, mimeType: file.mimeType, bytes: exportFileBytes(file) };
}
