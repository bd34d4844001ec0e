// What the Electron preload exposes to the page (window.autobatch) and the IPC channels behind
// it. Kept free of zod so the (sandboxed, single-file) preload can use it with `import type`.
import type { MethodName, Unsubscribe } from './contract.js';
import type { WireEvent, WireResponse } from './wire.js';

/** The global the preload defines with contextBridge.exposeInMainWorld. */
export const BRIDGE_GLOBAL = 'autobatch';

export const IPC_CHANNELS = {
  /** invoke(channel, method, params) → WireResponse (never rejects for API errors). */
  call: 'autobatch:call',
  /** main → renderer: one WireEvent per message. */
  event: 'autobatch:event',
} as const;

/** One function per API method, each answering with the wire envelope. */
export type BridgeCalls = { [M in MethodName]: (params?: unknown) => Promise<WireResponse> };

export interface AutobatchBridge extends BridgeCalls {
  /** Every event main sends; returns a function that stops listening. */
  onEvent(listener: (event: WireEvent) => void): Unsubscribe;
  /** The file-system path of a File dropped onto the window (webUtils.getPathForFile); null when none. */
  pathForFile(file: unknown): string | null;
}
