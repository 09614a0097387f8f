/**
 * What `npm run test:e2e` does about Chromium and the offline run on a given machine, decided from
 * plain facts (the real machine is never changed here).
 */
import { describe, expect, it } from 'vitest';
import { planChromium, planOffline, type SystemFacts } from '../../tests/e2e/runE2e.ts';
import { DEFAULT_CHROMIUM_PATH } from '../../tests/e2e/e2eEnvironment.ts';

const rootWithApt: SystemFacts = {
  chromiumPath: DEFAULT_CHROMIUM_PATH,
  chromiumPresent: true,
  isRoot: true,
  hasAptGet: true,
  canUnshareNetwork: true,
  ipPath: '/usr/sbin/ip',
  ci: false,
};

describe('planChromium', () => {
  it('uses Chromium when it is there', () => {
    expect(planChromium(rootWithApt)).toEqual({ action: 'use' });
  });

  it("installs Debian's chromium when missing, as root with apt-get", () => {
    expect(planChromium({ ...rootWithApt, chromiumPresent: false })).toEqual({
      action: 'install',
      packages: ['chromium'],
    });
  });

  it('fails saying exactly what to install when it may not install', () => {
    const plan = planChromium({ ...rootWithApt, chromiumPresent: false, isRoot: false });
    expect(plan).toMatchObject({ action: 'fail' });
    expect((plan as { message: string }).message).toContain(
      'sudo apt-get update && sudo apt-get install -y chromium',
    );
    expect(planChromium({ ...rootWithApt, chromiumPresent: false, hasAptGet: false })).toMatchObject({
      action: 'fail',
      message: expect.stringContaining('RECKON_E2E_CHROMIUM'),
    });
  });

  it('does not install anything for a custom path that is missing', () => {
    expect(
      planChromium({ ...rootWithApt, chromiumPath: '/opt/chromium/chrome', chromiumPresent: false }),
    ).toMatchObject({ action: 'fail', message: expect.stringContaining('/opt/chromium/chrome') });
  });
});

describe('planOffline', () => {
  it('runs offline where a network namespace can be made, installing iproute2 if needed', () => {
    expect(planOffline(rootWithApt)).toEqual({ action: 'offline', install: [] });
    expect(planOffline({ ...rootWithApt, ipPath: null })).toEqual({
      action: 'offline',
      install: ['iproute2'],
    });
  });

  it('runs online with a note where unshare -n is not permitted, and fails that way in CI', () => {
    const user = { ...rootWithApt, isRoot: false, canUnshareNetwork: false };
    expect(planOffline(user)).toMatchObject({
      action: 'online',
      note: expect.stringMatching(/Offline check SKIPPED: "unshare -n" is not permitted/),
    });
    expect(planOffline({ ...user, ci: true })).toMatchObject({ action: 'fail' });
    expect(planOffline({ ...rootWithApt, ipPath: null, hasAptGet: false })).toMatchObject({
      action: 'online',
    });
  });
});
