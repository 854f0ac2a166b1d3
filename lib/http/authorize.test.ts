import { describe, expect, it } from 'vitest';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { authorize, policyFromEnvironment } from './authorize.ts';

const q = (query: string) => new URLSearchParams(query);

describe('tokens', () => {
  const policy = policyFromEnvironment('bk-job', { TOKENS_BK_JOB: ' old-token , new-token ,' });

  it('takes any of the configured tokens (rotation)', () => {
    expect(() => authorize(policy, q('token=old-token'), '198.51.100.1')).not.toThrow();
    expect(() => authorize(policy, q('job=x&token=new-token'), '198.51.100.1')).not.toThrow();
  });

  it('refuses a missing, wrong, empty or prefix token with 401, never repeating it', () => {
    for (const query of ['', 'job=x', 'token=', 'token=wrong', 'token=old', 'token=old-token2', 'token=OLD-TOKEN']) {
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
    for (const env of [{}, { TOKENS_BK_JOB: '' }, { TOKENS_BK_JOB: ' , ' }]) {
      expect(() => authorize(policyFromEnvironment('bk-job', env), q(''), '198.51.100.1')).not.toThrow();
    }
  });

  it('reads each source from its own variable', () => {
    const thain = policyFromEnvironment('thain', { TOKENS_BK_JOB: 'a', TOKENS_TENCENT_CI: 'b', TOKENS_THAIN: 'c' });
    expect(() => authorize(thain, q('token=c'), '198.51.100.1')).not.toThrow();
    expect(() => authorize(thain, q('token=a'), '198.51.100.1')).toThrow(UnauthorizedError);
    const ci = policyFromEnvironment('tencent-ci', { TOKENS_TENCENT_CI: 'b' });
    expect(() => authorize(ci, q('token=b'), '198.51.100.1')).not.toThrow();
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
});
