import { describe, expect, it } from 'vitest';
import {
  APP_ORIGIN,
  classifyExternalUrl,
  isAppUrl,
  isTrustedSender,
  type SenderInfo,
} from '../../main/engine/app/senderPolicy.ts';

const trusted = new Set([7]);
const sender = (url: string | null | undefined, extra: Partial<SenderInfo> = {}): SenderInfo => ({
  url,
  isMainFrame: true,
  webContentsId: 7,
  ...extra,
});

describe('isTrustedSender', () => {
  it('accepts the main frame of our window showing the app', () => {
    expect(APP_ORIGIN).toBe('app://reckon');
    expect(isTrustedSender(sender('app://reckon/index.html'), trusted)).toBe(true);
    expect(isTrustedSender(sender('app://reckon/'), trusted)).toBe(true);
    expect(isTrustedSender(sender('app://reckon/index.html?view=runs#run-1'), trusted)).toBe(true);
  });

  it.each([
    ['a foreign https origin', 'https://evil.example/'],
    ['file://', 'file:///home/user/reckon/out/renderer/index.html'],
    ['http://127.0.0.1', 'http://127.0.0.1:5173/'],
    ['http://localhost', 'http://localhost/'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['about:blank', 'about:blank'],
    ['javascript:', 'javascript:alert(1)'],
    ['blob:', 'blob:app://reckon/0f1e2d3c'],
    ['a lookalike host', 'app://reckon.evil/index.html'],
    ['a lookalike prefix', 'app://reckonx/index.html'],
    ['another host of the scheme', 'app://evil/reckon/index.html'],
    ['credentials before the host', 'app://reckon@evil/index.html'],
    ['a user name', 'app://evil@reckon/index.html'],
    ['a port', 'app://reckon:8080/index.html'],
    ['another scheme with the host', 'https://reckon/index.html'],
    ['a scheme lookalike', 'apps://reckon/index.html'],
    ['an unparseable URL', 'not a url'],
    ['an empty URL', ''],
    ['a relative URL', '/index.html'],
  ])('refuses %s', (_what, url) => {
    expect(isTrustedSender(sender(url), trusted)).toBe(false);
  });

  it('refuses a missing frame URL (the frame is gone)', () => {
    expect(isTrustedSender(sender(null), trusted)).toBe(false);
    expect(isTrustedSender(sender(undefined), trusted)).toBe(false);
  });

  it('refuses subframes, even of the app origin', () => {
    expect(isTrustedSender(sender('app://reckon/index.html', { isMainFrame: false }), trusted)).toBe(false);
  });

  it('refuses webContents the app did not create', () => {
    expect(isTrustedSender(sender('app://reckon/index.html', { webContentsId: 8 }), trusted)).toBe(false);
    expect(isTrustedSender(sender('app://reckon/index.html'), new Set())).toBe(false);
  });

  it('accepts an extra origin only when it is given (the dev server), exactly', () => {
    const dev = { allowedOrigins: [APP_ORIGIN, 'http://localhost:5173'] };
    expect(isTrustedSender(sender('http://localhost:5173/'), trusted)).toBe(false);
    expect(isTrustedSender(sender('http://localhost:5173/'), trusted, dev)).toBe(true);
    expect(isTrustedSender(sender('http://localhost:5174/'), trusted, dev)).toBe(false);
    expect(isTrustedSender(sender('https://localhost:5173/'), trusted, dev)).toBe(false);
    expect(isTrustedSender(sender('app://reckon/index.html'), trusted, dev)).toBe(true);
  });
});

describe('isAppUrl', () => {
  it('is the navigation rule: only the app origin', () => {
    expect(isAppUrl('app://reckon/index.html')).toBe(true);
    expect(isAppUrl('app://reckon.evil/')).toBe(false);
    expect(isAppUrl('https://example.com/')).toBe(false);
    expect(isAppUrl(undefined)).toBe(false);
  });
});

describe('classifyExternalUrl', () => {
  it('offers https links to the system browser after confirmation and refuses the rest', () => {
    expect(classifyExternalUrl('https://huggingface.co/Qwen')).toBe('confirm');
    expect(classifyExternalUrl('http://example.com/')).toBe('refuse');
    expect(classifyExternalUrl('file:///etc/passwd')).toBe('refuse');
    expect(classifyExternalUrl('javascript:alert(1)')).toBe('refuse');
    expect(classifyExternalUrl('smb://share/x')).toBe('refuse');
    expect(classifyExternalUrl('https://user:pass@example.com/')).toBe('refuse');
    expect(classifyExternalUrl('nonsense')).toBe('refuse');
  });
});
