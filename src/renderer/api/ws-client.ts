// The browser's Api over WebSocket (`autobatch serve`). The token comes from the page's
// `?token=` (the server also sets it as a cookie, so a reload without it still works).
import { createWebSocketApi, TOKEN_PARAM, type Api, type FetchLike, type UploadableFile, type WebSocketLike } from '../../shared/api/index.js';

const TOKEN_STORAGE_KEY = 'autobatch-token';

/** The token from ?token= (remembered for this tab so a reload keeps working), else the remembered one. */
function tokenFromLocation(loc: Location = window.location, storage: Storage | undefined = window.sessionStorage): string {
  const fromUrl = new URLSearchParams(loc.search).get(TOKEN_PARAM);
  if (fromUrl) {
    storage?.setItem(TOKEN_STORAGE_KEY, fromUrl);
    return fromUrl;
  }
  return storage?.getItem(TOKEN_STORAGE_KEY) ?? '';
}

function startDownload(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export function createBrowserWebSocketApi(options: { baseUrl?: string; token?: string } = {}): Api {
  return createWebSocketApi({
    baseUrl: options.baseUrl ?? window.location.origin,
    token: options.token ?? tokenFromLocation(),
    createSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    fetch: ((url, init) => window.fetch(url, init as RequestInit)) as FetchLike,
    fileBody: (file: UploadableFile) => file as unknown as File,
    startDownload,
  });
}
