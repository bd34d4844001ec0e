// Who may talk to `autobatch serve`: the request must carry the session token (query or the
// cookie set by the first tokened page load), name this server in its Host header (a foreign
// Host means DNS rebinding: another site's name resolving to 127.0.0.1), and, when a browser
// sends an Origin, come from this server's own origin (no other site's page may drive the API).
// Pure functions over header values, so every rule is unit-tested without sockets.
import { timingSafeEqual } from 'node:crypto';
import { TOKEN_PARAM } from '../../shared/api/index.js';

export interface GuardConfig {
  token: string;
  port: number;
  /** Host names/addresses this server answers to (without port). */
  allowedHosts: readonly string[];
}

type GuardResult = { ok: true; tokenFrom: 'query' | 'cookie' } | { ok: false; reason: string };

export function cookieName(port: number): string {
  // Cookies are shared between ports of one host: name them per port so two servers do not clash.
  return `autobatch_token_${port}`;
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      out.set(name, value);
    }
  }
  return out;
}

/** 'localhost:8080' → 'localhost'; '[::1]:8080' → '::1'; undefined when it is not host[:port]. */
export function hostOf(hostHeader: string): { host: string; port: number | undefined } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(hostHeader.trim());
  if (!m) return undefined;
  return { host: (m[1] ?? m[2]!).toLowerCase(), port: m[3] !== undefined ? Number(m[3]) : undefined };
}

export function checkHost(hostHeader: string | undefined, cfg: GuardConfig): string | undefined {
  if (!hostHeader) return 'missing Host header';
  const h = hostOf(hostHeader);
  if (!h || !cfg.allowedHosts.includes(h.host) || (h.port ?? 80) !== cfg.port) return `foreign Host header "${hostHeader.slice(0, 100)}"`;
  return undefined;
}

export function checkOrigin(origin: string | undefined, cfg: GuardConfig): string | undefined {
  if (origin === undefined) return undefined; // not a browser (a browser always sends Origin for WebSockets and POSTs)
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return `foreign Origin "${origin.slice(0, 100)}"`;
  }
  const h = hostOf(u.host);
  if (u.protocol !== 'http:' || !h || !cfg.allowedHosts.includes(h.host) || (h.port ?? 80) !== cfg.port) return `foreign Origin "${origin.slice(0, 100)}"`;
  return undefined;
}

/** Checks one HTTP or WebSocket-upgrade request. */
export function guardRequest(req: { url: string; headers: { host?: string; origin?: string; cookie?: string } }, cfg: GuardConfig): GuardResult {
  const hostProblem = checkHost(req.headers.host, cfg);
  if (hostProblem) return { ok: false, reason: hostProblem };
  const originProblem = checkOrigin(req.headers.origin, cfg);
  if (originProblem) return { ok: false, reason: originProblem };
  const url = new URL(req.url, 'http://placeholder');
  const fromQuery = url.searchParams.get(TOKEN_PARAM);
  if (fromQuery !== null) {
    return tokensEqual(fromQuery, cfg.token) ? { ok: true, tokenFrom: 'query' } : { ok: false, reason: 'wrong token' };
  }
  const fromCookie = parseCookies(req.headers.cookie).get(cookieName(cfg.port));
  if (fromCookie !== undefined && tokensEqual(fromCookie, cfg.token)) return { ok: true, tokenFrom: 'cookie' };
  return { ok: false, reason: 'missing token: open the URL that `autobatch serve` printed (it ends in ?token=…)' };
}

/** The host names a server bound to `bindHost` answers to. */
export function allowedHostsFor(bindHost: string, extra: readonly string[] = []): string[] {
  const loopback = ['127.0.0.1', 'localhost', '::1'];
  const bind = bindHost.replace(/^\[|\]$/g, '').toLowerCase();
  return [...new Set([...loopback, bind, ...extra.map((h) => h.toLowerCase())])].filter((h) => h !== '0.0.0.0' && h !== '::');
}
