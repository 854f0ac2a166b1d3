import { describe, expect, it } from 'vitest';
import { parseCidr } from './cidr.ts';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { family: 'ipv4', address: '10.0.0.0', prefix: 8 }],
    ['192.0.2.7', { family: 'ipv4', address: '192.0.2.7', prefix: 32 }],
    ['192.0.2.7/32', { family: 'ipv4', address: '192.0.2.7', prefix: 32 }],
    ['0.0.0.0/0', { family: 'ipv4', address: '0.0.0.0', prefix: 0 }],
    ['2001:db8::/32', { family: 'ipv6', address: '2001:db8::', prefix: 32 }],
    ['2001:db8::1', { family: 'ipv6', address: '2001:db8::1', prefix: 128 }],
    ['2001:db8:0:0:0:0:0:0/48', { family: 'ipv6', address: '2001:db8:0:0:0:0:0:0', prefix: 48 }],
    ['::/0', { family: 'ipv6', address: '::', prefix: 0 }],
    ['::1', { family: 'ipv6', address: '::1', prefix: 128 }],
    ['fe80::/10', { family: 'ipv6', address: 'fe80::', prefix: 10 }],
  ])('takes %s', (item, expected) => {
    expect(parseCidr(item)).toEqual(expected);
  });

  // Each of these once opened the allowlist wider than written (an empty prefix read as /0, a second
  // "/" ignored) or is a typo whose meaning is a guess.
  it.each([
    ['10.9.9.9/', /empty prefix length/],
    ['203.0.113.7/', /empty prefix length/],
    ['2001:db8::/', /empty prefix length/],
    ['10.0.0.0/8/32', /more than one "\/"/],
    ['10.0.0.0/33', /prefix length over 32: \/33/],
    ['2001:db8::/129', /prefix length over 128: \/129/],
    ['10.0.0.0/8a', /not a plain decimal number: "8a"/],
    ['10.0.0.0/+8', /not a plain decimal number: "\+8"/],
    ['10.0.0.0/ 8', /not a plain decimal number: " 8"/],
    ['10.0.0.0/-8', /not a plain decimal number/],
    ['10.0.0.0/08', /not a plain decimal number: "08"/],
    ['10.0.0.0/8.0', /not a plain decimal number/],
    ['10.0.0.0/0x8', /not a plain decimal number/],
    ['10.0.0.0/1e1', /not a plain decimal number/],
    ['010.0.0.1', /not an IPv4 or IPv6 address/],
    ['10.0.0/8', /not an IPv4 or IPv6 address/],
    ['10.0.0.256', /not an IPv4 or IPv6 address/],
    ['0x0a.0.0.1', /not an IPv4 or IPv6 address/],
    ['example.com', /not an IPv4 or IPv6 address/],
    ['', /not an IPv4 or IPv6 address/],
    ['/8', /not an IPv4 or IPv6 address/],
    ['fe80::1%eth0', /zone id/],
    ['10.1.2.3/8', /bits set past its \/8 prefix/],
    ['192.0.2.7/24', /bits set past its \/24 prefix/],
    ['2001:db8::1/64', /bits set past its \/64 prefix/],
    ['2001:db8::/0', /bits set past its \/0 prefix/],
    ['::ffff:10.0.0.1', /IPv4 address written as IPv6/],
    ['::ffff:a00:1', /IPv4 address written as IPv6/],
    ['::ffff:0:0/96', /IPv4 address written as IPv6/],
    ['0:0:0:0:0:ffff:c000:207', /IPv4 address written as IPv6/],
    ['::10.0.0.1', /IPv4 address written as IPv6/],
  ])('refuses %s', (item, problem) => {
    const result = parseCidr(item);
    expect(typeof result, JSON.stringify(result)).toBe('string');
    expect(result).toMatch(problem);
  });
});
