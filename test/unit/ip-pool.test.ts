import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpPool, formatIpv4, parseIpv4 } from '../../src/backends/memory/ip-pool.js';

function drain(pool: IpPool): number[] {
  const taken: number[] = [];
  for (let ip = pool.allocate(); ip !== null; ip = pool.allocate()) taken.push(ip);
  return taken;
}

describe('IpPool', () => {
  it('hands out .2 first, leaving .1 to the gateway', () => {
    const pool = new IpPool('192.168.1.0/24');
    expect(formatIpv4(pool.allocate() as number)).toBe('192.168.1.2');
    expect(formatIpv4(pool.allocate() as number)).toBe('192.168.1.3');
  });

  it('hands out addresses up to broadcast - 1 and then returns null', () => {
    const pool = new IpPool('10.0.0.0/28');
    const taken = drain(pool).map(formatIpv4);
    expect(taken[0]).toBe('10.0.0.2');
    expect(taken[taken.length - 1]).toBe('10.0.0.14');
    expect(taken).not.toContain('10.0.0.15');
    expect(pool.allocate()).toBeNull();
  });

  it.each([
    ['192.168.1.0/24', 253],
    ['10.0.0.0/28', 13],
    ['10.0.0.0/30', 1],
    ['10.0.0.0/16', 65_533],
  ])('the capacity of %s is %i (every host address but the gateway)', (cidr, capacity) => {
    const pool = new IpPool(cidr);
    expect(pool.capacity).toBe(capacity);
    expect(drain(pool)).toHaveLength(capacity);
  });

  it('a /32 has no address to hand out', () => {
    const pool = new IpPool('10.0.0.7/32');
    expect(pool.capacity).toBe(0);
    expect(pool.allocate()).toBeNull();
  });

  it('every address handed out is unique', () => {
    const taken = drain(new IpPool('172.16.0.0/22'));
    expect(new Set(taken).size).toBe(taken.length);
  });

  it('a CIDR written with a host address starts at the network of that address', () => {
    const pool = new IpPool('192.168.1.77/24');
    expect(formatIpv4(pool.allocate() as number)).toBe('192.168.1.2');
  });

  it('a released address is handed out again, before any never-used one', () => {
    const pool = new IpPool('10.0.0.0/24');
    const a = pool.allocate() as number;
    const b = pool.allocate() as number;
    pool.release(a);
    expect(pool.allocate()).toBe(a);
    expect(pool.allocate()).toBe(b + 1);
  });

  it('an exhausted pool hands out an address again once one is released', () => {
    const pool = new IpPool('10.0.0.0/30');
    const only = pool.allocate() as number;
    expect(pool.allocate()).toBeNull();
    pool.release(only);
    expect(pool.allocate()).toBe(only);
    expect(pool.allocate()).toBeNull();
  });
});

describe('parseIpv4 and formatIpv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['0.0.0.1', 1],
    ['0.0.1.0', 256],
    ['192.168.1.2', ((192 * 256 + 168) * 256 + 1) * 256 + 2],
    ['255.255.255.255', 2 ** 32 - 1],
  ])('%s is the number %i', (text, value) => {
    expect(parseIpv4(text)).toBe(value);
    expect(formatIpv4(value)).toBe(text);
  });

  it('format then parse is the identity for every 32-bit number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        expect(parseIpv4(formatIpv4(n))).toBe(n);
      }),
    );
  });

  it('parse then format is the identity for every dotted quad', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (octets) => {
        const text = octets.join('.');
        expect(formatIpv4(parseIpv4(text))).toBe(text);
      }),
    );
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.-1', 'a.b.c.d', '1.2.3.4.', '1.2.3.4.5/24', '1.2.3.1.5'])(
    'rejects %j',
    (text) => {
      expect(() => parseIpv4(text)).toThrow(/not an IPv4 address/);
    },
  );

  // Number('') is 0 and Number(' 4') is 4, so these slip through a check on Number(part).
  it.each(['1..2.3', '1.2.3. 4', '0x1.2.3.4', '1.2.3.4e0'])('rejects %j, whose octets are not plain decimal numbers', (text) => {
    expect(() => parseIpv4(text)).toThrow(/not an IPv4 address/);
  });
});
