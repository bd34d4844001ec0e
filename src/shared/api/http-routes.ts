// The HTTP side of `autobatch serve`, shared by the server and the browser client so both
// spell the routes the same way.

/** Query parameter (and cookie name) carrying the session token. */
export const TOKEN_PARAM = 'token';

/** The WebSocket endpoint (same port as the page). */
export const WS_PATH = '/api/ws';

export const HTTP_ROUTES = {
  /**
   * POST, body = the raw bytes of one file; query: upload (id from the first response; absent
   * for the first file), path (the file's relative path, '/'-separated, e.g. 'digits/3/a.png').
   * Answers {upload, source}: pass `source` to importDataset once every file is sent.
   */
  upload: '/api/upload',
  /** GET /api/download/csv/<runId> and /api/download/model/<runId>: attachment downloads. */
  download: '/api/download',
} as const;

export const UPLOAD_LIMITS = {
  /** One file. */
  maxFileBytes: 256 * 1024 * 1024,
  /** All files of one upload together. */
  maxUploadBytes: 2 * 1024 * 1024 * 1024,
  maxFiles: 200_000,
  /** Path segments of one relative path. */
  maxDepth: 16,
  maxPathLength: 1024,
} as const;
