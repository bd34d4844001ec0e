// The one way the renderer gets its Api: IPC inside the desktop app (the preload defined
// window.autobatch), WebSocket in a browser served by `autobatch serve`.
import type { Api } from '../../shared/api/index.js';
import { bridgeFromWindow, createIpcApi } from './ipc-client.js';
import { createBrowserWebSocketApi } from './ws-client.js';

export type * from '../../shared/api/index.js';
export { ApiError, DEFAULT_EPOCHS, FIRST_RUN } from '../../shared/api/index.js';

let api: Api | undefined;

export function getApi(): Api {
  if (!api) {
    const bridge = bridgeFromWindow();
    api = bridge ? createIpcApi(bridge) : createBrowserWebSocketApi();
  }
  return api;
}
