import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import type { SourceName } from '../events/cloud-event.ts';

/** Who may call a source: its tokens and its address allowlist; empty means anyone. */
export interface AccessPolicy {
  /** SHA-256 digests of the valid tokens (several at once, for rotation). */
  readonly tokenDigests: readonly Buffer[];
  /** The allowed caller networks, or undefined for any address. */
  readonly allow?: BlockList;
}

/** `bk-job` → `BK_JOB`: the suffix of a source's environment variables. */
function environmentSuffix(source: SourceName): string {
  return source.toUpperCase().replaceAll('-', '_');
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Reads a source's policy from `TOKENS_<SOURCE>` (comma-separated tokens) and `ALLOW_CIDRS_<SOURCE>`
 * (comma-separated IPv4/IPv6 addresses or CIDR blocks). Unset or empty: no token, any address.
 */
export function policyFromEnvironment(
  source: SourceName,
  env: Readonly<Record<string, string | undefined>> = process.env,
): AccessPolicy {
  const suffix = environmentSuffix(source);
  const tokens = splitList(env[`TOKENS_${suffix}`]);
  const cidrs = splitList(env[`ALLOW_CIDRS_${suffix}`]);
  return {
    tokenDigests: tokens.map(digest),
    ...(cidrs.length > 0 && { allow: blockListOf(cidrs, `ALLOW_CIDRS_${suffix}`) }),
  };
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function blockListOf(cidrs: readonly string[], variable: string): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefix] = cidr.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`${variable}: "${cidr}" is not an IP address or CIDR block`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
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
