import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/domain/errors.js';
import { parsePrefix, ruleFromRequest, sameRule } from '../../src/domain/security-group.js';

describe('parsePrefix', () => {
  const cases: [string, string, 'IPv4' | 'IPv6'][] = [
    ['10.0.0.0/8', '10.0.0.0/8', 'IPv4'],
    ['192.168.1.128/25', '192.168.1.128/25', 'IPv4'],
    ['2001:DB8::/32', '2001:db8::/32', 'IPv6'],
    ['2001:db8:0:0:1:0:0:0/80', '2001:db8:0:0:1::/80', 'IPv6'],
    ['::/0', '::/0', 'IPv6'],
    ['fe80:0:0:0:0:0:0:1/128', 'fe80::1/128', 'IPv6'],
    ['2001:db8:1:2:3:4:5:6/128', '2001:db8:1:2:3:4:5:6/128', 'IPv6'],
    ['2001:0:0:1:0:0:0:0/64', '2001:0:0:1::/64', 'IPv6'],
  ];
  for (const [given, canonical, ethertype] of cases) {
    it(`reads ${given} as ${canonical} (${ethertype})`, () => {
      expect(parsePrefix(given)).toEqual({ cidr: canonical, ethertype });
    });
  }

  const bad: [string, RegExp][] = [
    ['10.0.0.0', /prefix/],
    ['10.0.0.0/8/1', /prefix/],
    ['10.0.0.256/8', /prefix/],
    ['10.0.0.0/33', /0 to 32/],
    ['2001:db8::/129', /0 to 128/],
    ['2001:db8::1::/64', /prefix/],
    ['2001:db8:1:2:3:4:5/64', /prefix/],
    ['1:2:3:4:5:6:7:8::/64', /prefix/],
    ['2001:db8::12345/64', /prefix/],
    ['10.1.0.0/8', /host bits are set; the network is 10\.0\.0\.0\/8/],
    ['2001:db8::1/64', /host bits are set; the network is 2001:db8::\/64/],
  ];
  for (const [given, why] of bad) {
    it(`refuses ${given}`, () => {
      expect(parsePrefix(given)).toMatch(why);
    });
  }
});

describe('ruleFromRequest', () => {
  it('names every wrong field at once', () => {
    try {
      ruleFromRequest({ direction: 'ingress', protocol: 'icmp', port_min: 0, port_max: 70000, remote_cidr: 'x' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).extras.errors?.map((e) => e.path)).toEqual(['body.port_min', 'body.port_max', 'body.port_min', 'body.port_max', 'body.remote_cidr']);
    }
  });

  it('takes a single port from either end, and the family of the prefix as the ethertype', () => {
    expect(ruleFromRequest({ direction: 'egress', protocol: 'udp', port_max: 53, remote_cidr: '2001:db8::/32' })).toEqual({
      direction: 'egress',
      protocol: 'udp',
      port_min: 53,
      port_max: 53,
      remote_cidr: '2001:db8::/32',
      ethertype: 'IPv6',
    });
  });

  it('reads a /0 as anywhere, so that it is the same rule as one without a prefix', () => {
    const anywhere = ruleFromRequest({ direction: 'egress', ethertype: 'IPv6' });
    expect(sameRule(ruleFromRequest({ direction: 'egress', remote_cidr: '::/0' }), anywhere)).toBe(true);
    expect(sameRule(ruleFromRequest({ direction: 'egress', remote_cidr: '0.0.0.0/0' }), anywhere)).toBe(false);
  });
});
