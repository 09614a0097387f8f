/**
 * The renderer is served from `app://reckon/…` rather than file://: a real origin (so 'self' in
 * the CSP and the IPC sender check mean something), no access to the rest of the disk, and the same
 * headers as the browser host. The path rules live in the engine (readStaticAsset).
 */
import { protocol } from 'electron';
import { APP_HOST, APP_SCHEME } from '../engine/app/senderPolicy.ts';
import { contentSecurityPolicy, SECURITY_HEADERS } from '../engine/app/contentSecurityPolicy.ts';
import { readStaticAsset } from '../engine/app/staticAssets.ts';

/**
 * Declares `app:` a standard, secure scheme with fetch support (no CSP bypass, no service
 * workers). Must run before the app's `ready` event.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: {
        standard: true,
        secure: true,
        supportFetchAPI: true,
        bypassCSP: false,
        allowServiceWorkers: false,
      },
    },
  ]);
}

/**
 * Serves files of `rendererDir` for `app://reckon/<path>` with the app's CSP and SECURITY_HEADERS.
 * Other hosts are 404; only GET (and HEAD) are answered; traversal is refused by readStaticAsset.
 * File reads are asynchronous, so the main process never blocks on them.
 */
export function handleAppProtocol(rendererDir: string): void {
  const headers = { ...SECURITY_HEADERS, 'Content-Security-Policy': contentSecurityPolicy() };
  protocol.handle(APP_SCHEME, async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return new Response('400: bad URL\n', { status: 400, headers });
    }
    if (url.host !== APP_HOST) return new Response('404: no such file\n', { status: 404, headers });
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response('405: method not allowed\n', { status: 405, headers });
    }
    const asset = await readStaticAsset(rendererDir, url.pathname);
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(asset.body), {
      status: asset.status,
      headers: { ...headers, 'Content-Type': asset.contentType, 'Cache-Control': 'no-cache' },
    });
  });
}
