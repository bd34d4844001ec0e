// The desktop app's Api: wraps window.autobatch, which the preload exposes (one function per
// call, each answering with the wire envelope, plus one event subscription).
import { ApiError, BRIDGE_GLOBAL, createApiClient, type Api, type AutobatchBridge } from '../../shared/api/index.js';

export function bridgeFromWindow(): AutobatchBridge | undefined {
  return (window as unknown as Record<string, AutobatchBridge | undefined>)[BRIDGE_GLOBAL];
}

export function createIpcApi(bridge: AutobatchBridge): Api {
  return createApiClient({
    capabilities: { transport: 'ipc', nativeDialogs: true, upload: false, dropPaths: true },
    async call(method, params) {
      const fn = bridge[method];
      if (typeof fn !== 'function') throw new ApiError({ code: 'unknown-method', message: `the desktop app does not offer ${method}` });
      const res = await fn(params);
      if (res.ok) return res.result;
      throw new ApiError(res.error);
    },
    subscribe: (listener) => bridge.onEvent(listener),
    pathForFile: (file) => bridge.pathForFile(file),
  });
}
