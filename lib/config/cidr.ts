import { isIPv4, isIPv6 } from 'node:net';

/** One allowlist entry: a network (a single address is a network of its full prefix length). */
export interface Cidr {
  readonly family: 'ipv4' | 'ipv6';
  /** The network address, as written (its bits past `prefix` are all zero). */
  readonly address: string;
  /** Prefix length in bits: 0–32 for IPv4, 0–128 for IPv6; 32 or 128 for a single address. */
  readonly prefix: number;
}

/** A prefix length: decimal digits without a leading zero (`0` itself is fine). */
const PREFIX_DIGITS = /^(0|[1-9][0-9]{0,2})$/;

/**
 * Reads one allowlist item, strictly: `ADDRESS` or `ADDRESS/PREFIX`. Returns the network, or what is
 * wrong with the item in words. Refused, because each is a typo that would otherwise widen or
 * narrow the allowlist silently:
 *
 * - an empty or non-decimal prefix length (`10.0.0.0/`, `/8a`, `/+8`, `/ 8`), a leading zero
 *   (`/08`), more than one `/`, or a prefix length past the family's size (`/33`, `/129`);
 * - an IPv4 address with a leading zero in an octet (`010.0.0.1`: octal to some tools) or fewer than
 *   four octets (Node's `isIPv4` refuses both);
 * - an IPv6 zone id (`fe80::1%eth0`), and IPv4-mapped or -compatible IPv6 (`::ffff:10.0.0.1`,
 *   `::ffff:a00:1`, `::10.0.0.1`): API Gateway and function URLs report an IPv4 caller in its IPv4
 *   form, so the list takes that form only;
 * - an address with bits set past its prefix (`10.1.2.3/8`): it is unclear whether the network
 *   (`10.0.0.0/8`) or the host (`10.1.2.3`) was meant, so neither is guessed.
 */
export function parseCidr(item: string): Cidr | string {
  if (item.includes('%')) return 'has an IPv6 zone id ("%..."), which an allowlist cannot use';
  const parts = item.split('/');
  if (parts.length > 2) return 'has more than one "/"';
  const [address = '', prefixText] = parts;
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return 'is not an IPv4 or IPv6 address (IPv4: four decimal octets without leading zeros)';
  const bits = family === 'ipv4' ? 32 : 128;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (prefixText === '') return 'has an empty prefix length after "/"';
    if (!PREFIX_DIGITS.test(prefixText)) {
      return `has a prefix length that is not a plain decimal number: "${prefixText}"`;
    }
    prefix = Number(prefixText);
    if (prefix > bits) return `has a prefix length over ${bits}: /${prefix}`;
  }
  const bytes = family === 'ipv4' ? ipv4Bytes(address) : ipv6Bytes(address);
  if (family === 'ipv6' && isIpv4InIpv6(address, bytes)) {
    return 'is an IPv4 address written as IPv6: write its IPv4 form';
  }
  if (!hostBitsClear(bytes, prefix)) {
    return `has bits set past its /${prefix} prefix: write the network address, or the single address without a prefix`;
  }
  return { family, address, prefix };
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** The 16 bytes of a valid IPv6 address (`isIPv6` has accepted it), embedded IPv4 included. */
function ipv6Bytes(address: string): number[] {
  const words = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((group) => {
      if (group.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = ipv4Bytes(group);
        return [(a << 8) | b, (c << 8) | d];
      }
      return [Number.parseInt(group, 16)];
    });
  };
  const [head = '', tail] = address.split('::');
  const first = words(head);
  const last = tail === undefined ? [] : words(tail);
  const all = [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
  return all.flatMap((word) => [word >> 8, word & 0xff]);
}

/**
 * IPv4-mapped (`::ffff:0:0/96`, in any notation) or IPv4-compatible (`::a.b.c.d`, the deprecated
 * form, recognised when written with its dotted quad).
 */
function isIpv4InIpv6(address: string, bytes: readonly number[]): boolean {
  if (!bytes.slice(0, 10).every((byte) => byte === 0)) return false;
  if (bytes[10] === 0xff && bytes[11] === 0xff) return true;
  return address.includes('.') && bytes[10] === 0 && bytes[11] === 0;
}

function hostBitsClear(bytes: readonly number[], prefix: number): boolean {
  return bytes.every((byte, index) => {
    const kept = Math.min(8, Math.max(0, prefix - index * 8));
    const hostMask = 0xff >> kept;
    return (byte & hostMask) === 0;
  });
}
