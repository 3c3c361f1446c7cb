import { ApiError, type FieldError } from './errors.js';

/**
 * Security groups and their rules (docs/contract.md section 9), in the domain's words: what a group
 * and a rule are, which rules are valid, what a new group starts with, and the quotas. Tables as
 * data, read by both backends, the tests and the docs.
 */

export const ruleDirections = ['ingress', 'egress'] as const;
export type RuleDirection = (typeof ruleDirections)[number];

/** `null` in a rule is "any protocol". */
export const ruleProtocols = ['tcp', 'udp', 'icmp'] as const;
export type RuleProtocol = (typeof ruleProtocols)[number];

export const ethertypes = ['IPv4', 'IPv6'] as const;
export type Ethertype = (typeof ethertypes)[number];

/** Protocols whose rules may name a port range; icmp and "any" have no ports. */
export const protocolsWithPorts: readonly (RuleProtocol | null)[] = ['tcp', 'udp'];

export const PORT_MIN = 1;
export const PORT_MAX = 65535;

/** Every tenant has one, made on first need; it cannot be deleted or renamed, nor its name taken. */
export const DEFAULT_SECURITY_GROUP = 'default';

/** Per tenant, as Neutron's defaults (`[quotas]` security_group, security_group_rule); rules of every group count. */
export const securityGroupQuotas = { security_group: 10, security_group_rule: 100 } as const;

export interface SecurityGroupRule {
  id: string;
  direction: RuleDirection;
  protocol: RuleProtocol | null;
  port_min: number | null;
  port_max: number | null;
  /** An IPv4 or IPv6 prefix; null: from (or to) anywhere. */
  remote_cidr: string | null;
  ethertype: Ethertype;
}

/** A rule before it has an id. */
export type NewRule = Omit<SecurityGroupRule, 'id'>;

export interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  rules: SecurityGroupRule[];
  /** The id of the tenant that owns it. */
  tenant: string;
  created_at: string;
}

/** A group as a VM refers to it: the id the backends attach by, the name the VM shows. */
export interface SecurityGroupRef {
  id: string;
  name: string;
}

/** What a new group holds: allow everything out, over IPv4 and IPv6 (what Neutron adds to every new group). */
export const allowAllEgress: readonly NewRule[] = ethertypes.map((ethertype) => ({
  direction: 'egress',
  protocol: null,
  port_min: null,
  port_max: null,
  remote_cidr: null,
  ethertype,
}));

/** A rule as a client asks for it, every field but `direction` optional. */
export interface RuleRequest {
  direction: RuleDirection;
  protocol?: RuleProtocol | null | undefined;
  port_min?: number | null | undefined;
  port_max?: number | null | undefined;
  remote_cidr?: string | null | undefined;
  ethertype?: Ethertype | undefined;
}

/**
 * The rule a request asks for, or a 400 naming every field that is wrong: ports only with tcp or
 * udp, each 1..65535, the lower not above the upper (one given alone is a single port); a remote
 * prefix in IPv4 or IPv6 with no host bits set, whose family is the rule's ethertype (a /0 prefix
 * is anywhere: `remote_cidr` null, the family kept as the ethertype).
 */
export function ruleFromRequest(request: RuleRequest): NewRule {
  const errors: FieldError[] = [];
  const protocol = request.protocol ?? null;
  const givenMin = request.port_min ?? null;
  const givenMax = request.port_max ?? null;
  const hasPorts = givenMin !== null || givenMax !== null;
  if (hasPorts && !protocolsWithPorts.includes(protocol)) {
    const message = `ports are only for tcp or udp, not ${protocol ?? 'any protocol'}`;
    if (givenMin !== null) errors.push({ path: 'body.port_min', message });
    if (givenMax !== null) errors.push({ path: 'body.port_max', message });
  }
  for (const [field, value] of [['port_min', givenMin], ['port_max', givenMax]] as const) {
    if (value !== null && (!Number.isInteger(value) || value < PORT_MIN || value > PORT_MAX)) {
      errors.push({ path: `body.${field}`, message: `a whole number from ${PORT_MIN} to ${PORT_MAX}` });
    }
  }
  const portMin = givenMin ?? givenMax;
  const portMax = givenMax ?? givenMin;
  if (givenMin !== null && givenMax !== null && givenMin > givenMax) {
    errors.push({ path: 'body.port_min', message: `greater than port_max (${givenMax})` });
  }
  let ethertype: Ethertype = request.ethertype ?? 'IPv4';
  let remote: string | null = null;
  if (request.remote_cidr !== undefined && request.remote_cidr !== null) {
    const prefix = parsePrefix(request.remote_cidr);
    if (typeof prefix === 'string') {
      errors.push({ path: 'body.remote_cidr', message: prefix });
    } else {
      if (request.ethertype !== undefined && request.ethertype !== prefix.ethertype) {
        errors.push({ path: 'body.ethertype', message: `${request.ethertype} does not match remote_cidr, an ${prefix.ethertype} prefix` });
      }
      ethertype = prefix.ethertype;
      // A /0 is anywhere, as a rule without a prefix is (Neutron's duplicate check says the same).
      remote = prefix.cidr.endsWith('/0') ? null : prefix.cidr;
    }
  }
  if (errors.length > 0) {
    throw new ApiError('VALIDATION_ERROR', `Invalid rule: ${errors.map((e) => `${e.path} (${e.message})`).join('; ')}`, { errors });
  }
  return { direction: request.direction, protocol, port_min: portMin, port_max: portMax, remote_cidr: remote, ethertype };
}

/** Whether two rules allow the same traffic (Neutron's duplicate check compares the same fields). */
export function sameRule(a: NewRule, b: NewRule): boolean {
  return (
    a.direction === b.direction &&
    a.protocol === b.protocol &&
    a.port_min === b.port_min &&
    a.port_max === b.port_max &&
    a.remote_cidr === b.remote_cidr &&
    a.ethertype === b.ethertype
  );
}

/** A duplicate rule's 409. */
export function ruleExists(existing: SecurityGroupRule): ApiError {
  return new ApiError('RULE_EXISTS', `The group already has this rule (${existing.id})`);
}

/** The 403 for a group or rule over the tenant's quota. */
export function quotaExceeded(what: keyof typeof securityGroupQuotas, limit: number): ApiError {
  return new ApiError('QUOTA_EXCEEDED', `The tenant's ${what} quota (${limit}) would be exceeded; nothing was created`);
}

/**
 * `text` as a prefix in canonical form ("10.0.0.0/8", "2001:db8::/32"), or why it is not one. A
 * prefix with host bits set ("10.0.0.1/8") is refused rather than silently masked.
 */
export function parsePrefix(text: string): { cidr: string; ethertype: Ethertype } | string {
  const [address = '', length, ...extra] = text.split('/');
  if (length === undefined || extra.length > 0 || !/^\d{1,3}$/.test(length)) return 'an IPv4 or IPv6 prefix, e.g. 10.0.0.0/8 or 2001:db8::/32';
  const bits = Number(length);
  const v4 = parseIpv4Bytes(address);
  const bytes = v4 ?? parseIpv6Bytes(address);
  if (bytes === undefined) return 'an IPv4 or IPv6 prefix, e.g. 10.0.0.0/8 or 2001:db8::/32';
  const width = bytes.length * 8;
  if (bits > width) return `a prefix length from 0 to ${width}`;
  for (let bit = bits; bit < width; bit++) {
    if (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) return `host bits are set; the network is ${formatBytes(mask(bytes, bits))}/${bits}`;
  }
  return { cidr: `${formatBytes(bytes)}/${bits}`, ethertype: v4 ? 'IPv4' : 'IPv6' };
}

function mask(bytes: number[], bits: number): number[] {
  return bytes.map((byte, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return byte & (0xff << (8 - keep)) & 0xff;
  });
}

function parseIpv4Bytes(text: string): number[] | undefined {
  const octets = text.split('.');
  if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) return undefined;
  return octets.map(Number);
}

function parseIpv6Bytes(text: string): number[] | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(text) || text.split('::').length > 2) return undefined;
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const missing = 8 - left.length - right.length;
  if ((tail === undefined && missing !== 0) || (tail !== undefined && missing < 1)) return undefined;
  const all = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.flatMap((g) => {
    const value = parseInt(g, 16);
    return [value >> 8, value & 0xff];
  });
}

/** IPv4 dotted, IPv6 in RFC 5952 form (lower case, the longest run of zero groups as "::"). */
function formatBytes(bytes: number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start === -1) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}
