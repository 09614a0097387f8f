/**
 * The Content-Security-Policy the renderer is served with, by the Electron `app://` protocol and by
 * the browser host alike: scripts only from the app's own origin (no inline script, no eval), no
 * plugins, no framing, no forms posting anywhere, and network access only to the app itself (plus,
 * in the browser, the bridge's WebSocket).
 */

/** Response headers sent with every file of the renderer, besides the CSP. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  // The browser host's URL carries the token: never send it on in a Referer.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=()',
});

/** Options of contentSecurityPolicy; all optional. */
export interface ContentSecurityPolicyOptions {
  /** Extra `connect-src` sources, e.g. `ws://127.0.0.1:4310` for the browser host. Default: none. */
  connectSources?: readonly string[];
}

/**
 * The policy string: `default-src 'self'`, `script-src 'self'` (no 'unsafe-inline', no
 * 'unsafe-eval'), `style-src 'self' 'unsafe-inline'` (React sets style attributes), `img-src 'self'
 * data:`, `font-src 'self'`, `connect-src 'self'` plus `connectSources`, `object-src 'none'`,
 * `base-uri 'none'`, `form-action 'none'`, `frame-ancestors 'none'`, `frame-src 'none'`,
 * `worker-src 'self'`.
 */
export function contentSecurityPolicy(options: ContentSecurityPolicyOptions = {}): string {
  const connect = ["'self'", ...(options.connectSources ?? [])].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "frame-src 'none'",
    "worker-src 'self'",
  ].join('; ');
}
