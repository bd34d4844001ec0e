// The application menu as data (Menu.buildFromTemplate takes it): standard edit/view/window
// roles so copy, paste, zoom and full screen work, plus the app's own screens.
import type { MenuItemConstructorOptions } from 'electron';

interface MenuActions {
  /** Shows a screen of the renderer: 'datasets' | 'tune' | 'train' | 'runs' | 'settings'. */
  navigate(screen: string): void;
  openDataFolder(): void;
  openDocs(): void;
}

export const SCREENS = [
  { id: 'datasets', label: 'Datasets' },
  { id: 'tune', label: 'Tune' },
  { id: 'train', label: 'Train' },
  { id: 'runs', label: 'Runs' },
  { id: 'settings', label: 'Settings' },
] as const;

export function appMenuTemplate(platform: NodeJS.Platform, actions: MenuActions, isDev = false): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  const go: MenuItemConstructorOptions = {
    label: 'Go',
    submenu: SCREENS.map((s, i) => ({ label: s.label, accelerator: `CmdOrCtrl+${i + 1}`, click: () => actions.navigate(s.id) })),
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      { role: 'reload' },
      ...(isDev ? [{ role: 'toggleDevTools' } as MenuItemConstructorOptions] : []),
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
  return [
    ...(mac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []),
    {
      label: 'File',
      submenu: [{ label: 'Open Data Folder', click: () => actions.openDataFolder() }, { type: 'separator' }, mac ? { role: 'close' } : { role: 'quit' }],
    },
    { role: 'editMenu' },
    view,
    go,
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: 'AutoBatch Studio Guide', click: () => actions.openDocs() }] },
  ];
}
