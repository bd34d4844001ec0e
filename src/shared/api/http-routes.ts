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
  /**
   * GET /api/download/csv/<runId> and /api/download/model/<runId>: attachment downloads;
   * /api/download/recipe/<run|tuning>/<id>?workers=K&weights=1: a recipe folder as a tar.
   */
  download: '/api/download',
} as const;

/** What a recipe download asks for (the exportRecipe call, without the folder). */
export interface RecipeDownload {
  source: { kind: 'run' | 'tuning'; id: number };
  workers: number;
  withWeights?: boolean;
}

/** The recipe folder's name: what the tar's top folder, and the desktop's new folder, are called. */
export function recipeFolderName(p: RecipeDownload): string {
  return `recipe-${p.source.kind}-${p.source.id}-${p.workers}w${p.withWeights ? '-weights' : ''}`;
}

/** The download route of a recipe, with its query (the token is the caller's to add). */
export function recipeDownloadPath(p: RecipeDownload): string {
  return `${HTTP_ROUTES.download}/recipe/${p.source.kind}/${p.source.id}?workers=${p.workers}${p.withWeights ? '&weights=1' : ''}`;
}

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
