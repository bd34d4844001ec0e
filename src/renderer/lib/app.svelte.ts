// State shared by the screens: the Api (whichever transport this window has), the connection
// state, and what the user last chose (dataset, Auto-tune session), so moving between screens
// keeps the context. Everything else is fetched from the Api by the screen that shows it.
import { getApi, ApiError, type Api, type ConnectionState } from '../api/index.js';
import type { CapturedDrop } from './dropped-files.js';

class AppState {
  readonly api: Api = getApi();
  connection = $state<ConnectionState>('connecting');
  /** The dataset the user works with (Datasets → Tune → Train). */
  datasetId = $state<number | null>(null);
  /** Files dropped anywhere on the window, waiting for the load-dataset form to import them. */
  pendingDrop = $state.raw<CapturedDrop | null>(null);
  /**
   * A line for the screen at `href` (what a deletion removed): shown there, dropped once the user
   * moves on to another screen or item.
   */
  notice = $state<{ text: string; href: string; reached: boolean } | null>(null);

  constructor() {
    this.api.onConnection((s) => (this.connection = s));
  }
}

export const app = new AppState();

/** One line for the user: the Api's message with the field it names, or the error's text. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.field && !err.message.includes(err.field) ? `${err.message} (${err.field})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
