import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { Cidr } from '../config/cidr.ts';
import { ConfigError, type Environment, readAccessSettings } from '../config/settings.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';

/** Who may call a source: its tokens and its address allowlist; empty means anyone. */
export interface AccessPolicy {
  /** SHA-256 digests of the valid tokens (several at once, for rotation). */
  readonly tokenDigests: readonly Buffer[];
  /** The valid tokens themselves: what is redacted from every body we store. */
  readonly tokens: readonly string[];
  /** The allowed caller networks, or undefined for any address. */
  readonly allow?: BlockList;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Builds a policy from tokens and allowed networks (none: no token needed, any address). */
export function accessPolicy(tokens: readonly string[], allow?: readonly Cidr[]): AccessPolicy {
  const known = { tokenDigests: tokens.map(digest), tokens: [...tokens] };
  if (!allow) return known;
  const list = new BlockList();
  for (const cidr of allow) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  return { ...known, allow: list };
}

/**
 * Reads a source's policy from `TOKENS_<SOURCE>` and `ALLOW_CIDRS_<SOURCE>`, strictly (see
 * {@link readAccessSettings}). Tokens kept in SSM (`TOKENS_<SOURCE>_SSM_NAME`) are read at init by
 * `initCallbackHandler`; here they are refused, so that they are never silently ignored.
 * @throws ConfigError for a malformed setting
 */
export function policyFromEnvironment(source: string, env: Environment = process.env): AccessPolicy {
  const settings = readAccessSettings(source, env);
  if (settings.tokens.from === 'ssm') {
    throw new ConfigError(`${settings.tokens.variable} is set: its tokens are read by initCallbackHandler, at init`);
  }
  return accessPolicy(settings.tokens.from === 'variable' ? settings.tokens.tokens : [], settings.allow);
}

/**
 * Lets a request through or throws: 403 for an address outside the allowlist, 401 for a missing
 * or wrong `?token=`. Tokens are compared as SHA-256 digests with `timingSafeEqual`, against every
 * valid token without stopping early, so the answer time says nothing about a token's content.
 * Errors never repeat the token.
 */
export function authorize(policy: AccessPolicy, query: URLSearchParams, sourceIp: string): void {
  if (policy.allow) {
    const family = isIP(sourceIp);
    const allowed = family !== 0 && policy.allow.check(sourceIp, family === 4 ? 'ipv4' : 'ipv6');
    if (!allowed) throw new ForbiddenError('the caller address is not allowed for this source');
  }
  if (policy.tokenDigests.length === 0) return;
  const offered = query.getAll('token');
  if (offered.length === 0) {
    throw new UnauthorizedError('a token is required: add ?token=<token> to the registered URL');
  }
  let valid = false;
  for (const candidate of offered) {
    const candidateDigest = digest(candidate);
    for (const known of policy.tokenDigests) {
      if (timingSafeEqual(candidateDigest, known)) valid = true;
    }
  }
  if (!valid) throw new UnauthorizedError('the token is not valid for this source');
}
