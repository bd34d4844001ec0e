// The API contract (docs/architecture.md §3.2): one interface, its schemas, the wire envelope, a
// client core.
export * from './contract.js';
export * from './data.js';
export * from './wire.js';
export * from './defaults.js';
export { retuneCommand, retuneParams, type RetuneOverrides, type RetuneParams } from './retune.js';
export { runToEnd, tuningToEnd, type RunHooks, type TuningHooks } from './jobs.js';
export { createApiClient, type ClientTransport } from './client.js';
export { HTTP_ROUTES, TOKEN_PARAM, UPLOAD_LIMITS, WS_PATH, recipeDownloadPath, recipeFolderName, type RecipeDownload } from './http-routes.js';
export { BRIDGE_GLOBAL, IPC_CHANNELS, type AutobatchBridge, type BridgeCalls } from './bridge.js';
export { createWebSocketApi, createWebSocketTransport, wsUrlFor, type WebSocketLike, type FetchLike, type WebSocketTransportOptions } from './ws-transport.js';
