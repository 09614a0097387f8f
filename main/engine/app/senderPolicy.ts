/**
 * Who may talk to the app, decided without Electron so it can be tested as plain functions: the
 * Electron adapter asks isTrustedSender before it runs any IPC command, and uses isAppUrl and
 * classifyExternalUrl to lock navigation. The app's pages live at `app://reckon/…`; nothing else —
 * not file://, not a local web server, not a frame inside our page — is the app.
 */

/** The custom scheme the renderer is served from. */
export const APP_SCHEME = 'app';
/** The one host of that scheme. */
export const APP_HOST = 'reckon';
/** The app's origin: `app://reckon`. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** What is known about the frame that sent a message. */
export interface SenderInfo {
  /** The sending frame's URL; null/undefined when the frame is gone or navigated away. */
  url: string | null | undefined;
  /** True when the frame is the top-level frame of its page (not an iframe). */
  isMainFrame: boolean;
  /** The id of the webContents the frame belongs to. */
  webContentsId: number;
}

/** Which origins count as the app; default: only APP_ORIGIN. */
export interface OriginPolicyOptions {
  /**
   * Origins that count as the app, as `scheme://host[:port]`. Default: [APP_ORIGIN]. The Electron
   * adapter adds the dev server's origin only in unpackaged development runs.
   */
  allowedOrigins?: readonly string[];
}

/**
 * True when `url` parses and its scheme and host (port included) equal one of the allowed origins
 * exactly (default: only `app://reckon`), with no user name or password. Lookalikes such as
 * `app://reckon.evil`, `app://reckon@evil`, `app://reckon:1` or `app://evil/reckon` are not the app;
 * neither is anything that fails to parse.
 */
export function isAppUrl(url: string | null | undefined, options: OriginPolicyOptions = {}): boolean {
  if (typeof url !== 'string' || url === '') return false;
  const parsed = parseUrl(url);
  if (!parsed || parsed.username !== '' || parsed.password !== '') return false;
  return (options.allowedOrigins ?? [APP_ORIGIN]).some((origin) => {
    const allowed = parseUrl(origin);
    return (
      allowed !== undefined &&
      allowed.protocol === parsed.protocol &&
      allowed.host === parsed.host &&
      parsed.host !== ''
    );
  });
}

/**
 * True only when the message comes from the main frame (not a subframe) of a webContents we created
 * (`trustedIds`) and that frame shows the app (isAppUrl with `options`). Anything else — another
 * origin, file://, http://127.0.0.1, data:, about:blank, a missing URL, a URL that does not parse,
 * an unknown webContents — is refused.
 */
export function isTrustedSender(
  sender: SenderInfo,
  trustedIds: ReadonlySet<number>,
  options: OriginPolicyOptions = {},
): boolean {
  if (!sender.isMainFrame) return false;
  if (!trustedIds.has(sender.webContentsId)) return false;
  return isAppUrl(sender.url, options);
}

/**
 * What to do with a link that leaves the app: `confirm` for an https URL (ask the user, then open it
 * in the system browser), `refuse` for everything else (http, file, javascript:, custom schemes,
 * URLs with credentials, unparseable strings).
 */
export function classifyExternalUrl(url: string): 'confirm' | 'refuse' {
  const parsed = parseUrl(url);
  if (!parsed || parsed.protocol !== 'https:' || parsed.hostname === '') return 'refuse';
  if (parsed.username !== '' || parsed.password !== '') return 'refuse';
  return 'confirm';
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
