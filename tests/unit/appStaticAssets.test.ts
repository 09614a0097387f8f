import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { resolveStaticAsset } from '../../main/engine/app/staticAssets.ts';
import { contentSecurityPolicy } from '../../main/engine/app/contentSecurityPolicy.ts';

const root = path.resolve('/srv/reckon/out/renderer');

describe('resolveStaticAsset', () => {
  it('maps paths inside the folder to files with their content type', () => {
    expect(resolveStaticAsset(root, '/')).toEqual({
      kind: 'file',
      filePath: path.join(root, 'index.html'),
      contentType: 'text/html; charset=utf-8',
    });
    expect(resolveStaticAsset(root, '/assets/index-abc.js')).toMatchObject({
      kind: 'file',
      filePath: path.join(root, 'assets', 'index-abc.js'),
      contentType: 'text/javascript; charset=utf-8',
    });
    expect(resolveStaticAsset(root, '/assets/my%20font.woff2')).toMatchObject({
      filePath: path.join(root, 'assets', 'my font.woff2'),
      contentType: 'font/woff2',
    });
    expect(resolveStaticAsset(root, '/blob.bin')).toMatchObject({ contentType: 'application/octet-stream' });
  });

  it.each([
    ['/../etc/passwd', 403],
    ['/assets/../../etc/passwd', 403],
    ['/%2e%2e/etc/passwd', 403],
    ['/%2E%2E%2Fetc%2Fpasswd', 403],
    ['/./index.html', 403],
    ['/..%5c..%5cwindows', 400],
    ['/a%00.js', 400],
    ['/%E0%A4%A', 400],
    ['index.html', 400],
    ['/assets/', 404],
    ['//etc/passwd', 404],
    ['/.git/config', 404],
    ['/assets/.env', 404],
  ] as const)('refuses %s with %i', (urlPath, status) => {
    expect(resolveStaticAsset(root, urlPath)).toMatchObject({ kind: 'refused', status });
  });
});

describe('contentSecurityPolicy', () => {
  it('allows scripts only from the app and adds connect sources', () => {
    const csp = contentSecurityPolicy({ connectSources: ['ws://127.0.0.1:4000'] });
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:4000;");
    expect(contentSecurityPolicy()).toContain("connect-src 'self';");
  });
});
