/**
 * Hands out the host addresses of an IPv4 network, unique among holders, in O(1): addresses never
 * used yet come from a moving mark, released ones from a stack. The first host address is left to
 * the gateway, as a cloud network would.
 */
export class IpPool {
  private readonly first: number;
  private readonly last: number;
  private nextUnused: number;
  private readonly released: number[] = [];

  constructor(cidr: string) {
    const [address = '', prefixText = ''] = cidr.split('/');
    const prefix = Number(prefixText);
    const base = parseIpv4(address);
    const size = 2 ** (32 - prefix);
    const network = base - (base % size);
    this.first = network + 2;
    this.last = network + size - 2;
    this.nextUnused = this.first;
  }

  /** An address as a number, or null when every one is taken. */
  allocate(): number | null {
    const reused = this.released.pop();
    if (reused !== undefined) return reused;
    if (this.nextUnused > this.last) return null;
    return this.nextUnused++;
  }

  release(address: number): void {
    this.released.push(address);
  }

  get capacity(): number {
    return Math.max(0, this.last - this.first + 1);
  }
}

export function parseIpv4(text: string): number {
  const octets = text.split('.');
  // Number() would read '', ' 4', '0x1' and '4e0' as numbers; only plain decimals are octets.
  if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) {
    throw new Error(`not an IPv4 address: ${text}`);
  }
  return octets.reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function formatIpv4(address: number): string {
  return `${(address >>> 24) & 255}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}
