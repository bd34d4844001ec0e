// ipcMain ↔ the API dispatcher. One invoke channel carries every call (the preload exposes one
// function per method over it) and answers with the wire envelope; calls from any frame that
// does not show app:// content are refused before the dispatcher sees them. Events go to each
// window's webContents through its own coalescing subscription.
import type { IpcMainInvokeEvent } from 'electron';
import { IPC_CHANNELS, type WireEvent, type WireResponse } from '../../shared/api/index.js';
import { isTrustedSender } from './security.js';

export interface CallDispatcher {
  dispatch(raw: unknown): Promise<WireResponse>;
  subscribe(send: (event: WireEvent) => void): () => void;
}

interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown> | unknown): void;
  removeHandler(channel: string): void;
}

let callCounter = 0;

/** The answer to one IPC call (exported for tests). */
export async function answerIpcCall(
  dispatcher: CallDispatcher,
  event: Pick<IpcMainInvokeEvent, 'senderFrame'>,
  method: unknown,
  params: unknown,
): Promise<WireResponse> {
  const id = ++callCounter;
  if (!isTrustedSender(event.senderFrame)) {
    return { id, ok: false, error: { code: 'rejected', message: "calls are accepted only from the app's own pages" } };
  }
  return dispatcher.dispatch({ id, method, ...(params === undefined ? {} : { params }) });
}

export function registerIpcBridge(ipcMain: IpcMainLike, dispatcher: CallDispatcher): () => void {
  ipcMain.handle(IPC_CHANNELS.call, (event, method, params) => answerIpcCall(dispatcher, event, method, params));
  return () => ipcMain.removeHandler(IPC_CHANNELS.call);
}

interface EventTarget {
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  once(event: 'destroyed', listener: () => void): unknown;
  getURL(): string;
}

/** Sends API events to one window's page (only while it shows app:// content). */
export function forwardEvents(dispatcher: CallDispatcher, contents: EventTarget): () => void {
  const unsubscribe = dispatcher.subscribe((event) => {
    if (contents.isDestroyed() || !isTrustedSender({ url: contents.getURL() })) return;
    contents.send(IPC_CHANNELS.event, event);
  });
  contents.once('destroyed', unsubscribe);
  return unsubscribe;
}
