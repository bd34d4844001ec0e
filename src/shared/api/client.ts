// Builds an `Api` object over any transport that can send one request and deliver events.
// The IPC, WebSocket and direct clients differ only in the ClientTransport they pass.
import {
  METHOD_NAMES,
  isEventName,
  type Api,
  type ApiCalls,
  type ApiCapabilities,
  type ConnectionState,
  type EventData,
  type EventName,
  type MethodName,
  type ResultOf,
  type Unsubscribe,
  type UploadableFile,
} from './contract.js';
import { ApiError, type WireEvent } from './wire.js';
import { recipeFolderName, type RecipeDownload } from './http-routes.js';

export interface ClientTransport {
  readonly capabilities: ApiCapabilities;
  /** Sends one call; resolves with its result or rejects with an ApiError. */
  call(method: MethodName, params: unknown): Promise<unknown>;
  /** Delivers every event the other side sends. */
  subscribe(listener: (event: WireEvent) => void): Unsubscribe;
  upload?(files: readonly UploadableFile[], onProgress?: (sent: number, total: number) => void): Promise<{ source: string }>;
  pathForFile?(file: UploadableFile): string | null;
  /** Browser download of an export; the desktop client uses saveExport instead. */
  download?(params: { runId: number; kind: 'csv' | 'model' }): Promise<{ path: string | null }>;
  /** Browser download of a recipe folder as a tar; the desktop client asks for a folder instead. */
  downloadRecipe?(params: RecipeDownload): Promise<{ path: string | null }>;
  onConnection?(listener: (state: ConnectionState) => void): Unsubscribe;
  close?(): void;
}

function unavailable(what: string, transport: string): ApiError {
  return new ApiError({ code: 'unavailable', message: `${what} is not available over ${transport}` });
}

export function createApiClient(transport: ClientTransport): Api {
  const listeners = new Map<EventName, Set<(data: unknown) => void>>();
  let unsubscribeTransport: Unsubscribe | undefined;

  const ensureSubscribed = () => {
    unsubscribeTransport ??= transport.subscribe((event) => {
      if (!isEventName(event.event)) return; // an older client ignores events it does not know
      for (const l of listeners.get(event.event) ?? []) {
        try {
          l(event.data);
        } catch (err) {
          // One broken listener must not starve the others.
          console.error(`listener for ${event.event} failed`, err);
        }
      }
    });
  };

  const calls = {} as Record<MethodName, (params?: unknown) => Promise<unknown>>;
  for (const method of METHOD_NAMES) {
    calls[method] = (params?: unknown) => transport.call(method, params ?? {});
  }

  const api: Api = {
    ...(calls as unknown as ApiCalls),
    capabilities: transport.capabilities,
    on<E extends EventName>(event: E, listener: (data: EventData<E>) => void): Unsubscribe {
      ensureSubscribed();
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const l = listener as (data: unknown) => void;
      set.add(l);
      return () => {
        set.delete(l);
      };
    },
    upload(files, onProgress) {
      if (!transport.upload) return Promise.reject(unavailable('upload', transport.capabilities.transport));
      return transport.upload(files, onProgress);
    },
    pathForFile(file) {
      return transport.pathForFile ? transport.pathForFile(file) : null;
    },
    async download(params) {
      if (transport.download) return transport.download(params);
      if (transport.capabilities.nativeDialogs) return (await transport.call('saveExport', params)) as ResultOf<'saveExport'>;
      throw unavailable('download', transport.capabilities.transport);
    },
    async downloadRecipe(params) {
      if (transport.downloadRecipe) return transport.downloadRecipe(params);
      if (!transport.capabilities.nativeDialogs) throw unavailable('downloadRecipe', transport.capabilities.transport);
      const chosen = (await transport.call('chooseFolder', { title: 'Folder to write the recipe into' })) as ResultOf<'chooseFolder'>;
      if (chosen.path === null) return { path: null };
      // A new folder inside the chosen one ('/' is a separator on every system Node runs on).
      const out = `${chosen.path.replace(/[\\/]+$/, '')}/${recipeFolderName(params)}`;
      const written = (await transport.call('exportRecipe', { ...params, out })) as ResultOf<'exportRecipe'>;
      return { path: written.folder };
    },
    onConnection(listener) {
      if (transport.onConnection) return transport.onConnection(listener);
      listener('open');
      return () => {};
    },
    close() {
      unsubscribeTransport?.();
      unsubscribeTransport = undefined;
      listeners.clear();
      transport.close?.();
    },
  };
  return api;
}
