// The desktop app's entry (package.json "main"). Thin glue: every decision lives in the modules
// beside it, which take Electron's objects as arguments and are unit-tested with fakes.
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, screen, session, shell, utilityProcess } from 'electron';
import { fileURLToPath } from 'node:url';
import type { ApiDispatcher } from '../service/api-dispatch.js';
import { exportRun, openAppCore } from '../service/app-core.js';
import { TRAINER_ENTRY } from '../service/trainer-host.js';
import { defaultHome } from '../store/index.js';
import { APP_INDEX_URL, APP_SCHEME, createAppProtocolHandler, PRIVILEGED_SCHEMES } from './app-protocol.js';
import { createDialogHandlers } from './dialogs.js';
import { forwardEvents, registerIpcBridge } from './ipc-bridge.js';
import { appMenuTemplate } from './menu.js';
import { denyAllPermissions, guardNavigation, secureWebPreferences } from './security.js';
import { bringToFront, claimSingleInstance } from './single-instance.js';
import { createUtilityEntryRunner, createUtilitySpawner } from './utility-spawner.js';
import { fitToDisplays, loadWindowState, saveWindowState, trackWindowState } from './window-state.js';

const RENDERER_DIR = fileURLToPath(new URL('../../../renderer/', import.meta.url));
const PRELOAD = fileURLToPath(new URL('../../preload/preload.cjs', import.meta.url));
const DOCS_URL = 'https://github.com/autobatch-studio/autobatch-studio#readme';

// Before `ready`: app:// must be a standard, secure scheme to get an origin and fetch().
protocol.registerSchemesAsPrivileged(PRIVILEGED_SCHEMES);

let mainWindow: BrowserWindow | undefined;

function createWindow(home: string, dispatcher: ApiDispatcher): BrowserWindow {
  const state = fitToDisplays(
    loadWindowState(home),
    screen.getAllDisplays().map((d) => d.workArea),
  );
  const win = new BrowserWindow({
    ...state,
    minWidth: 640,
    minHeight: 480,
    show: false,
    title: 'AutoBatch Studio',
    backgroundColor: '#1b1d21',
    // The checklist's flags are repeated here, where the window is made, so that static scanners
    // (electronegativity: `npm run check:electron`) see them; Auxclick off: a middle click opens no window.
    webPreferences: { ...secureWebPreferences(PRELOAD), contextIsolation: true, sandbox: true, nodeIntegration: false, disableBlinkFeatures: 'Auxclick' },
  });
  if (state.maximized) win.maximize();
  trackWindowState(win, (s) => saveWindowState(home, s));
  forwardEvents(dispatcher, win.webContents);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = undefined;
  });
  void win.loadURL(APP_INDEX_URL);
  return win;
}

async function main(): Promise<void> {
  if (!claimSingleInstance(app, () => bringToFront(mainWindow))) return;
  await app.whenReady();

  const home = defaultHome();
  const core = openAppCore({
    home,
    client: 'desktop',
    spawn: createUtilitySpawner(utilityProcess.fork, TRAINER_ENTRY),
    warmTrainer: true,
    desktop: (api) =>
      createDialogHandlers(
        dialog,
        () => mainWindow,
        (runId, kind) => exportRun(api(), runId, kind),
      ),
    entryRunner: createUtilityEntryRunner(utilityProcess.fork),
  });
  const { dispatcher } = core;

  protocol.handle(APP_SCHEME, createAppProtocolHandler(RENDERER_DIR));
  denyAllPermissions(session.defaultSession);
  app.on('web-contents-created', (_event, contents) => guardNavigation(contents, (url) => void shell.openExternal(url)));
  registerIpcBridge(ipcMain, dispatcher);

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      appMenuTemplate(
        process.platform,
        {
          navigate: (screenId) => {
            if (mainWindow) void mainWindow.loadURL(`${APP_INDEX_URL}#/${screenId}`);
          },
          openDataFolder: () => void shell.openPath(home),
          openDocs: () => void shell.openExternal(DOCS_URL),
        },
        !app.isPackaged,
      ),
    ),
  );

  mainWindow = createWindow(home, dispatcher);
  app.on('activate', () => {
    if (!mainWindow) mainWindow = createWindow(home, dispatcher);
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Stop running jobs (stored as stopped, every reported step kept) before the process ends.
  let closed = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    void core.close().finally(() => {
      closed = true;
      app.quit();
    });
  });
}

main().catch((err: unknown) => {
  dialog.showErrorBox('AutoBatch Studio could not start', err instanceof Error ? err.message : String(err));
  app.exit(1);
});
