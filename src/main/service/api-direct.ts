// The direct transport: an Api in the same process (CLI, tests). Calls go through the same
// dispatcher as IPC and WebSocket — validated the same way — and params and results are copied
// (structured clone) so neither side can change the other's objects.
import { ApiError, createApiClient, type Api } from '../../shared/api/index.js';
import type { CoalescerOptions } from './event-coalescer.js';
import type { ApiDispatcher } from './api-dispatch.js';

export function createDirectApi(dispatcher: ApiDispatcher, options: { coalescer?: CoalescerOptions } = {}): Api {
  let nextId = 1;
  return createApiClient({
    capabilities: { transport: 'direct', nativeDialogs: false, upload: false, dropPaths: false },
    async call(method, params) {
      const res = await dispatcher.dispatch({ id: nextId++, method, params: structuredClone(params) });
      if (res.ok) return structuredClone(res.result);
      throw new ApiError(res.error);
    },
    subscribe: (listener) => dispatcher.subscribe((event) => listener(structuredClone(event)), options.coalescer),
  });
}
