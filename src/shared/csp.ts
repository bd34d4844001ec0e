// The Content-Security-Policy of the app's pages, in the browser (`autobatch serve`) and in the
// desktop app (app://): scripts only from the app itself, no eval, no plugins, no framing.
// Styles allow 'unsafe-inline' because Svelte transitions set inline styles; scripts never do.

export function contentSecurityPolicy(options: { connectSrc?: readonly string[] } = {}): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self'${options.connectSrc?.length ? ' ' + options.connectSrc.join(' ') : ''}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
