// The preload of the desktop window (sandboxed: it may require only 'electron', so it imports
// nothing else at run time — types only). It exposes window.autobatch: one function per API
// method, one event subscription and the path of a dropped file. Nothing else reaches the page.
// Compiled to CommonJS (.cjs): Electron runs a sandboxed preload as a function of
// (require, process, exports, module); the unit test runs it the same way.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { AutobatchBridge, MethodName, WireEvent, WireResponse } from '../shared/api/index.js';

// Same values as BRIDGE_GLOBAL and IPC_CHANNELS in src/shared/api/bridge.ts (a test checks).
const BRIDGE_GLOBAL = 'autobatch';
const CALL_CHANNEL = 'autobatch:call';
const EVENT_CHANNEL = 'autobatch:event';

// Every method of the contract, exactly: the type makes a missing or unknown name a compile error.
const METHODS: Record<MethodName, true> = {
  listDatasets: true,
  getDataset: true,
  importDataset: true,
  importSample: true,
  deleteDataset: true,
  listArchitectures: true,
  startTuning: true,
  stopTuning: true,
  getTuning: true,
  listTunings: true,
  deleteTuning: true,
  tuningTrialRows: true,
  exportTuningCsv: true,
  checkTuning: true,
  scaleOutPlan: true,
  startTraining: true,
  stopTraining: true,
  resumeTraining: true,
  activeRuns: true,
  listRuns: true,
  getRun: true,
  compareRuns: true,
  exportRunCsv: true,
  exportModel: true,
  exportRecipe: true,
  deleteRun: true,
  importRunMetrics: true,
  getSettings: true,
  updateSettings: true,
  detectBackends: true,
  chooseFolder: true,
  chooseFile: true,
  saveExport: true,
};

type Invoke = (channel: string, ...args: unknown[]) => Promise<unknown>;
type On = (channel: string, listener: (event: IpcRendererEvent, data: unknown) => void) => void;
type Off = (channel: string, listener: (event: IpcRendererEvent, data: unknown) => void) => void;

function buildBridge(ipc: { invoke: Invoke; on: On; removeListener: Off }, getPathForFile: (file: never) => string): AutobatchBridge {
  const bridge = {} as Record<string, unknown>;
  for (const method of Object.keys(METHODS)) {
    bridge[method] = (params?: unknown) => ipc.invoke(CALL_CHANNEL, method, params) as Promise<WireResponse>;
  }
  bridge.onEvent = (listener: (event: WireEvent) => void) => {
    const wrapped = (_event: IpcRendererEvent, data: unknown) => listener(data as WireEvent);
    ipc.on(EVENT_CHANNEL, wrapped);
    return () => ipc.removeListener(EVENT_CHANNEL, wrapped);
  };
  bridge.pathForFile = (file: unknown) => {
    try {
      return getPathForFile(file as never) || null;
    } catch {
      return null; // not a File
    }
  };
  return bridge as unknown as AutobatchBridge;
}

contextBridge.exposeInMainWorld(
  BRIDGE_GLOBAL,
  buildBridge(ipcRenderer, (file) => webUtils.getPathForFile(file)),
);
