// The one entry of every transport (IPC, WebSocket, direct): checks the envelope, looks the
// method up in the contract, validates params with its schema — invalid input never reaches
// the service and is answered with a message naming the field — calls the handler, and turns
// whatever it throws into a wire error. It also fans the service's events out to subscribers,
// each through its own EventCoalescer (~10 updates a second).
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import {
  API_EVENTS,
  API_METHODS,
  isMethodName,
  wireRequestSchema,
  type EventName,
  type MethodName,
  type Unsubscribe,
  type WireError,
  type WireEvent,
  type WireResponse,
} from '../../shared/api/index.js';
import { ApiError } from '../../shared/api/index.js';
import { describeSchemaError, schemaErrorField } from '../../shared/schema-errors.js';
import type { TuningProgress } from '../../shared/tuning-types.js';
import { DatasetImportError } from '../engine/datasets/index.js';
import { DatasetNameTakenError, StoreError } from '../store/index.js';
import { createServiceHandlers, importErrorWire, type DesktopHandlers, type DesktopMethod, type Handler } from './api-handlers.js';
import type { EntryRunner } from './backend-detect.js';
import { ConflictError, NotFoundError, UserError } from './errors.js';
import { EventCoalescer, type CoalescerOptions } from './event-coalescer.js';
import type { AutoBatchService, ServiceEvents } from './service.js';
import { packageVersion } from './app-version.js';

/** Who the dispatcher answers: desktop-only calls are told apart by client in their refusal. */
export type ClientKind = 'desktop' | 'browser' | 'cli';

export interface DispatcherOptions {
  /** Default 'browser'. */
  client?: ClientKind;
  /** The desktop shell's native dialogs; other clients answer those calls 'unavailable'. */
  desktop?: DesktopHandlers;
  entryRunner?: EntryRunner;
  /** Check every result against the contract (tests; a mismatch is answered as an internal error). */
  validateResults?: boolean;
  coalescer?: CoalescerOptions;
}

/** What a client without native dialogs does instead, said in the refusal. */
const INSTEAD: Record<Exclude<ClientKind, 'desktop'>, Record<DesktopMethod, string>> = {
  browser: {
    chooseFolder: 'type a path on the serving machine, or upload a folder',
    chooseFile: 'type a path on the serving machine, or upload a file',
    saveExport: 'the browser downloads exports (Api.download)',
  },
  cli: {
    chooseFolder: 'give the folder as an argument',
    chooseFile: 'give the file as an argument',
    saveExport: 'give the destination as an argument (runs export --csv FILE, models export RUN DIR)',
  },
};

/** Handlers for the desktop-only calls in a client that has no native dialogs. */
export function unavailableDesktopHandlers(client: Exclude<ClientKind, 'desktop'>): DesktopHandlers {
  const refuse = (method: DesktopMethod) => () => {
    throw new ApiError({
      code: 'unavailable',
      message: `${method} is not available in this client (${client === 'cli' ? 'the command line' : 'the browser'}): it needs the desktop app's native dialogs; ${INSTEAD[client][method]}`,
    });
  };
  return { chooseFolder: refuse('chooseFolder'), chooseFile: refuse('chooseFile'), saveExport: refuse('saveExport') };
}

/** An invalid-params answer: the bad fields named in the message, the first one in `field`. */
function describeParamsError(method: string, error: z.ZodError): WireError {
  const field = schemaErrorField(error);
  return { code: 'invalid-params', message: `invalid ${method} request: ${describeSchemaError(error, 'params')}`, ...(field ? { field } : {}) };
}

/** `message` naming `field` ("runId: no run …"), with the field. */
function naming(message: string, field: string | undefined): Pick<WireError, 'message' | 'field'> {
  if (!field) return { message };
  return { message: message.startsWith(`${field}: `) ? message : `${field}: ${message}`, field };
}

/** Whatever a handler threw, as a wire error with a message for the user. */
export function toWireError(err: unknown): WireError {
  if (err instanceof ApiError) return err.toWire();
  if (err instanceof DatasetImportError) return importErrorWire(err);
  if (err instanceof NotFoundError) return { code: 'not-found', ...naming(err.message, err.field) };
  if (err instanceof ConflictError) return { code: 'conflict', ...naming(err.message, err.field) };
  if (err instanceof DatasetNameTakenError) return { code: 'conflict', ...naming(err.message, 'name') };
  if (err instanceof UserError) {
    // "field: message" from a handler names the field too.
    return { code: 'rejected', ...naming(err.message, err.field ?? /^([A-Za-z][\w.]*): /.exec(err.message)?.[1]) };
  }
  if (err instanceof StoreError) return { code: 'internal', message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
}

const SERVICE_EVENTS = [
  'run-status',
  'run-backend',
  'run-metrics',
  'tune-progress',
  'tune-trial',
  'tune-status',
] as const satisfies readonly (keyof ServiceEvents & EventName)[];

export class ApiDispatcher {
  private readonly handlers: { [M in MethodName]: Handler<M> };
  private readonly bus = new EventEmitter<{ event: [EventName, unknown] }>();
  private readonly lastProgress = new Map<number, TuningProgress>();
  private readonly detach: (() => void)[] = [];
  private readonly subscribers = new Set<EventCoalescer>();

  constructor(
    service: AutoBatchService,
    private readonly options: DispatcherOptions = {},
  ) {
    this.bus.setMaxListeners(0);
    const base = createServiceHandlers({
      service,
      emit: (event, data) => this.bus.emit('event', event, data),
      lastProgress: (id) => this.lastProgress.get(id) ?? null,
      ...(options.entryRunner ? { entryRunner: options.entryRunner } : {}),
      version: packageVersion(),
    });
    this.handlers = { ...base, ...(options.desktop ?? unavailableDesktopHandlers(options.client === 'cli' ? 'cli' : 'browser')) };
    for (const name of SERVICE_EVENTS) {
      const listener = (data: unknown) => {
        if (name === 'tune-progress') this.lastProgress.set((data as TuningProgress).sessionId, data as TuningProgress);
        if (name === 'tune-status' && (data as { status: string }).status !== 'running') this.lastProgress.delete((data as { sessionId: number }).sessionId);
        this.bus.emit('event', name, data);
      };
      service.on(name, listener);
      this.detach.push(() => service.off(name, listener));
    }
  }

  /** Answers one request envelope. Never throws: every failure is a wire error. */
  async dispatch(raw: unknown): Promise<WireResponse> {
    const envelope = wireRequestSchema.safeParse(raw);
    if (!envelope.success) {
      const id = raw && typeof raw === 'object' && 'id' in raw && (typeof raw.id === 'number' || typeof raw.id === 'string') ? raw.id : null;
      const error = describeParamsError('API', envelope.error);
      return { id, ok: false, error: { ...error, message: error.message.replace(/^invalid API request/, 'malformed request') } };
    }
    const { id, method } = envelope.data;
    try {
      return { id, ok: true, result: await this.call(method, envelope.data.params ?? {}) };
    } catch (err) {
      return { id, ok: false, error: toWireError(err) };
    }
  }

  /** Validates and runs one call; throws ApiError (or what the handler threw). */
  async call(method: string, params: unknown): Promise<unknown> {
    if (!isMethodName(method)) throw new ApiError({ code: 'unknown-method', field: 'method', message: `unknown method "${method}"` });
    const spec = API_METHODS[method];
    const parsed = spec.params.safeParse(params);
    if (!parsed.success) throw new ApiError(describeParamsError(method, parsed.error));
    const handler = this.handlers[method] as Handler<MethodName>;
    const result = await handler(parsed.data as never);
    if (this.options.validateResults) {
      const checked = spec.result.safeParse(result);
      if (!checked.success)
        throw new ApiError({
          code: 'internal',
          message: `${method} returned a result that breaks the contract: ${describeParamsError(method, checked.error).message}`,
        });
    }
    return result;
  }

  /**
   * Sends every API event to `send`, at most ~10 flushes a second (merged in between). Returns
   * the function that stops it.
   */
  subscribe(send: (event: WireEvent) => void, options: CoalescerOptions = {}): Unsubscribe {
    const coalescer = new EventCoalescer(send, { ...this.options.coalescer, ...options });
    const listener = (event: EventName, data: unknown) => coalescer.push(event, data);
    this.bus.on('event', listener);
    this.subscribers.add(coalescer);
    return () => {
      this.bus.off('event', listener);
      coalescer.close();
      this.subscribers.delete(coalescer);
    };
  }

  /** Sends pending events now (before a shutdown, so the last statuses go out). */
  flushEvents(): void {
    for (const c of this.subscribers) c.flush();
  }

  /** Detaches from the service (which the owner closes). */
  close(): void {
    this.flushEvents();
    for (const d of this.detach.splice(0)) d();
    for (const c of this.subscribers) c.close();
    this.subscribers.clear();
    this.bus.removeAllListeners();
  }
}

/** Checks an event's data against the contract (tests). */
export function checkEvent(event: WireEvent): boolean {
  const schema = (API_EVENTS as Record<string, z.ZodType>)[event.event];
  return Boolean(schema && schema.safeParse(event.data).success);
}
