// The desktop-only API calls: native open-folder, open-file and save dialogs. The browser has
// none of them (it types a path or uploads), so they are handlers the shell adds to the dispatcher.
import { writeFileSync } from 'node:fs';
import type { BrowserWindow, Dialog } from 'electron';
import type { DesktopHandlers } from '../service/api-handlers.js';

/** Builds a run's export (through the API): its suggested file name and bytes. */
export type ExportMaker = (runId: number, kind: 'csv' | 'model') => Promise<{ fileName: string; bytes: Uint8Array }>;

type DialogLike = Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>;

const DATASET_FILE_FILTERS = [
  { name: 'Datasets (CSV, IDX)', extensions: ['csv', 'tsv', 'gz', 'idx', 'idx1-ubyte', 'idx3-ubyte', 'ubyte'] },
  { name: 'All files', extensions: ['*'] },
];

export function createDialogHandlers(dialog: DialogLike, window: () => BrowserWindow | undefined, makeExport: ExportMaker): DesktopHandlers {
  const open = async (properties: ('openDirectory' | 'openFile')[], title: string, filters?: typeof DATASET_FILE_FILTERS) => {
    const win = window();
    const options = { title, properties, ...(filters ? { filters } : {}) };
    const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
    return { path: r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0]! };
  };
  return {
    chooseFolder: (p) => open(['openDirectory'], p.title ?? 'Choose a dataset folder'),
    chooseFile: (p) => open(['openFile'], p.title ?? 'Choose a dataset file', DATASET_FILE_FILTERS),
    saveExport: async (p) => {
      // Build the file first: a run without a model fails before any dialog opens.
      const file = await makeExport(p.runId, p.kind);
      const win = window();
      const options = { title: p.kind === 'csv' ? 'Save metrics as CSV' : 'Save the model', defaultPath: file.fileName };
      const r = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
      if (r.canceled || !r.filePath) return { path: null };
      writeFileSync(r.filePath, file.bytes);
      return { path: r.filePath };
    },
  };
}
