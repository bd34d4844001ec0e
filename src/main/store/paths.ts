import os from 'node:os';
import path from 'node:path';

export const DATABASE_FILE = 'autobatch.db';

/** The data folder's layout. */
export interface StorePaths {
  home: string;
  database: string;
  /** One cache folder per imported dataset. */
  datasetsDir: string;
  /** One folder per run: its model and evaluation. */
  artifactsDir: string;
  /**
   * Copies of the trained models runs started from, one folder per model named by the sha256 of
   * its files: shared by every run and tuning that starts from the same model.
   */
  startModelsDir: string;
}

/** Where each part of a data folder lives. */
export function storePaths(home: string): StorePaths {
  const root = path.resolve(home);
  return {
    home: root,
    database: path.join(root, DATABASE_FILE),
    datasetsDir: path.join(root, 'datasets'),
    artifactsDir: path.join(root, 'artifacts'),
    startModelsDir: path.join(root, 'start-models'),
  };
}

/** Where AutoBatch Studio keeps its data, for a given platform/environment (testable). */
export function defaultHomeFor(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, homedir: string): string {
  const override = env.AUTOBATCH_HOME;
  if (override !== undefined && override !== '') return override;
  if (platform === 'win32') {
    const appData = env.APPDATA !== undefined && env.APPDATA !== '' ? env.APPDATA : path.win32.join(homedir, 'AppData', 'Roaming');
    return path.win32.join(appData, 'AutoBatch Studio');
  }
  if (platform === 'darwin') return path.posix.join(homedir, 'Library', 'Application Support', 'AutoBatch Studio');
  const xdg = env.XDG_DATA_HOME;
  const dataHome = xdg !== undefined && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(homedir, '.local', 'share');
  return path.posix.join(dataHome, 'autobatch-studio');
}

/**
 * AUTOBATCH_HOME if set, else the user's app-data folder: Linux $XDG_DATA_HOME/autobatch-studio
 * (~/.local/share/autobatch-studio), macOS ~/Library/Application Support/AutoBatch Studio,
 * Windows %APPDATA%\AutoBatch Studio. AUTOBATCH_HOME is resolved against the working folder.
 */
export function defaultHome(): string {
  const home = defaultHomeFor(process.platform, process.env, os.homedir());
  return path.resolve(home);
}
