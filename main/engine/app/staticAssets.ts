/**
 * Serving the built renderer (out/renderer) safely, shared by the Electron `app://` protocol and the
 * browser host: a request path maps to a file inside the folder or is refused — no `..`, no encoded
 * slashes or backslashes, no hidden files, no directory listings, and no symlink that leads outside.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** The page served for `/`. */
export const INDEX_FILE = 'index.html';

/** Content types by extension; anything else is application/octet-stream. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
});

/** Where a request path leads: a file to serve, or a refusal with its HTTP status. */
export type StaticAssetResolution =
  | { kind: 'file'; filePath: string; contentType: string }
  | { kind: 'refused'; status: 400 | 403 | 404; reason: string };

/**
 * Maps the path part of a URL (`/assets/index.js`, percent-encoded as received, no query) to a
 * file under `rootDir`, without touching the disk. `/` is INDEX_FILE. Refused: a path not starting
 * with `/` or that does not decode (400), a NUL or backslash (400), a `.` or `..` segment (403,
 * traversal), an empty segment (`//`), a hidden segment (`.git`) or a trailing `/` other than the
 * root (404: there are no directory listings).
 */
export function resolveStaticAsset(rootDir: string, urlPath: string): StaticAssetResolution {
  if (!urlPath.startsWith('/')) return { kind: 'refused', status: 400, reason: 'the path must start with /' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { kind: 'refused', status: 400, reason: 'the path is not valid percent-encoding' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) {
    return { kind: 'refused', status: 400, reason: 'the path contains a NUL or a backslash' };
  }
  if (decoded === '/') decoded = `/${INDEX_FILE}`;
  const segments = decoded.slice(1).split('/');
  if (segments.some((segment) => segment === '..' || segment === '.')) {
    return { kind: 'refused', status: 403, reason: 'the path leaves the folder' };
  }
  if (segments.some((segment) => segment === '' || segment.startsWith('.'))) {
    return { kind: 'refused', status: 404, reason: 'no such file' };
  }
  const root = path.resolve(rootDir);
  const filePath = path.resolve(root, ...segments);
  const relative = path.relative(root, filePath);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    return { kind: 'refused', status: 403, reason: 'the path leaves the folder' };
  }
  const contentType = CONTENT_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
  return { kind: 'file', filePath, contentType };
}

/** A static response: what to send for one request. */
export interface StaticAssetResponse {
  status: 200 | 400 | 403 | 404;
  contentType: string;
  body: Buffer;
}

/**
 * Resolves `urlPath` with resolveStaticAsset and reads the file. A directory, a missing file or a
 * file whose real path (symlinks followed) is outside the real `rootDir` is a 404; refusals keep
 * their status. Bodies of refusals are short plain-text reasons.
 */
export async function readStaticAsset(rootDir: string, urlPath: string): Promise<StaticAssetResponse> {
  const resolved = resolveStaticAsset(rootDir, urlPath);
  if (resolved.kind === 'refused') return plain(resolved.status, resolved.reason);
  try {
    const [realRoot, realFile] = await Promise.all([realpath(rootDir), realpath(resolved.filePath)]);
    const relative = path.relative(realRoot, realFile);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative))
      return plain(404, 'no such file');
    if (!(await stat(realFile)).isFile()) return plain(404, 'no such file');
    return { status: 200, contentType: resolved.contentType, body: await readFile(realFile) };
  } catch {
    return plain(404, 'no such file');
  }
}

function plain(status: StaticAssetResponse['status'], reason: string): StaticAssetResponse {
  return { status, contentType: 'text/plain; charset=utf-8', body: Buffer.from(`${status}: ${reason}\n`) };
}
