// The security decisions of the desktop shell, as Electron's checklist asks, in functions that
// take the Electron objects as arguments (so they are unit-tested with fakes; Electron itself
// cannot be launched in CI): isolated, sandboxed renderers without Node; app content only from
// app://; navigation, new windows, webviews and permission requests refused; IPC answered only
// for frames showing app:// content.
import type { Session, WebContents, WebPreferences } from 'electron';
import { APP_HOST, APP_SCHEME } from './app-protocol.js';

export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/** True for URLs of the app's own content (app://app/…), nothing else. */
export function isAppUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    // Compare scheme and host: WHATWG URL gives non-special schemes the origin "null".
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/** What IPC handlers check before answering: the sending frame shows app:// content. */
export function isTrustedSender(frame: { url: string } | null | undefined): boolean {
  return Boolean(frame) && isAppUrl(frame!.url);
}

type NavigationContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/**
 * Blocks every navigation away from app:// (links, dropped files, redirects) and every new
 * window; external http(s) links go to the system browser through `openExternal`.
 */
export function guardNavigation(contents: NavigationContents, openExternal: (url: string) => void): void {
  const block = (event: { preventDefault(): void }, url: string) => {
    if (isAppUrl(url)) return;
    event.preventDefault();
  };
  contents.on('will-navigate', block);
  contents.on('will-redirect', block);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//i.test(url)) openExternal(url);
    return { action: 'deny' };
  });
}

type PermissionSession = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>;

/** Denies every permission (camera, notifications, HID, …): the app needs none. */
export function denyAllPermissions(session: PermissionSession): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
