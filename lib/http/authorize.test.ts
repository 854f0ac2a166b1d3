import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/settings.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { authorize, policyFromEnvironment } from './authorize.ts';

const q = (query: string) => new URLSearchParams(query);

describe('tokens', () => {
  const policy = policyFromEnvironment('bk-job', { TOKENS_BK_JOB: ' old-token-0123456789 , new-token-0123456789' });

  it('takes any of the configured tokens (rotation)', () => {
    expect(() => authorize(policy, q('token=old-token-0123456789'), '198.51.100.1')).not.toThrow();
    expect(() => authorize(policy, q('job=x&token=new-token-0123456789'), '198.51.100.1')).not.toThrow();
  });

  it('refuses a missing, wrong, empty or prefix token with 401, never repeating it', () => {
    for (const query of [
      '',
      'job=x',
      'token=',
      'token=wrong',
      'token=old-token',
      'token=old-token-01234567890',
      'token=OLD-TOKEN-0123456789',
    ]) {
      let error: unknown;
      try {
        authorize(policy, q(query), '198.51.100.1');
      } catch (caught) {
        error = caught;
      }
      expect(error, query).toBeInstanceOf(UnauthorizedError);
      const message = (error as Error).message;
      expect(message).not.toMatch(/wrong|OLD|old-token|new-token/);
    }
  });

  it('needs no token when none is configured, or the variable is empty', () => {
    for (const env of [{}, { TOKENS_BK_JOB: '' }]) {
      expect(() => authorize(policyFromEnvironment('bk-job', env), q(''), '198.51.100.1')).not.toThrow();
    }
  });

  it('reads each source from its own variable', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((letter) => letter.repeat(16));
    const thain = policyFromEnvironment('thain', { TOKENS_BK_JOB: a, TOKENS_TENCENT_CI: b, TOKENS_THAIN: c });
    expect(() => authorize(thain, q(`token=${c}`), '198.51.100.1')).not.toThrow();
    expect(() => authorize(thain, q(`token=${a}`), '198.51.100.1')).toThrow(UnauthorizedError);
    const ci = policyFromEnvironment('tencent-ci', { TOKENS_TENCENT_CI: b });
    expect(() => authorize(ci, q(`token=${b}`), '198.51.100.1')).not.toThrow();
  });

  it('refuses tokens kept in SSM: only initCallbackHandler reads them, at init', () => {
    expect(() => policyFromEnvironment('thain', { TOKENS_THAIN_SSM_NAME: '/jobhooks/thain' })).toThrow(ConfigError);
  });
});

describe('address allowlist', () => {
  const policy = policyFromEnvironment('thain', { ALLOW_CIDRS_THAIN: '10.0.0.0/8, 192.0.2.7, 2001:db8::/32' });

  it('lets in addresses inside the listed blocks', () => {
    for (const ip of ['10.1.2.3', '192.0.2.7', '2001:db8::1']) {
      expect(() => authorize(policy, q(''), ip), ip).not.toThrow();
    }
  });

  it('refuses others with 403', () => {
    for (const ip of ['11.0.0.1', '192.0.2.8', '2001:db9::1', '', 'not-an-ip']) {
      expect(() => authorize(policy, q(''), ip), ip).toThrow(ForbiddenError);
    }
  });

  it('refuses a malformed allowlist at start-up, naming the variable', () => {
    expect(() => policyFromEnvironment('thain', { ALLOW_CIDRS_THAIN: '10.0.0/8' })).toThrow(/ALLOW_CIDRS_THAIN/);
  });

  // Each of these used to let in more than written (127.0.0.1, 8.8.8.8, any IPv6 caller, 10.0.0.0/8):
  // an empty prefix read as /0, a second "/" was ignored. Now none of them gets as far as a request.
  it.each(['10.9.9.9/', '203.0.113.7/', '2001:db8::/', '10.0.0.0/8/32'])('refuses the malformed %s at start-up', (cidr) => {
    expect(() => policyFromEnvironment('thain', { ALLOW_CIDRS_THAIN: cidr })).toThrow(ConfigError);
  });
});
