import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SecurityGroupRuleSchema, SecurityGroupSchema } from '../../src/http/security-group-schemas.js';
import { VmSchema } from '../../src/http/schemas.js';
import { waitFor } from '../../src/shared/wait-for.js';
import { ApiClient, type ProblemBody, type VmBody } from '../support/api-client.js';
import type { ContractTarget } from './vm-contract.js';

export interface SecurityGroupContractOptions {
  /** Runs the isolation probes: the target gives `headers` and `otherTenant`. */
  twoTenants?: boolean;
  /**
   * Fills the tenant's group quota (Neutron's default, 10) to see the 403. Only where the tenant's
   * quota is its own: on OpenStack every tenant shares the project's, and other tests' groups count.
   */
  quotas?: boolean;
}

interface Rule {
  id: string;
  direction: string;
  protocol: string | null;
  port_min: number | null;
  port_max: number | null;
  remote_cidr: string | null;
  ethertype: string;
}

interface Group {
  id: string;
  name: string;
  description: string;
  rules: Rule[];
  tenant: string;
  created_at: string;
}

const egressPair = [
  { direction: 'egress', protocol: null, port_min: null, port_max: null, remote_cidr: null, ethertype: 'IPv4' },
  { direction: 'egress', protocol: null, port_min: null, port_max: null, remote_cidr: null, ethertype: 'IPv6' },
];

const withoutIds = (rules: Rule[]) =>
  rules.map(({ id: _id, ...rest }) => rest).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

const BASE = '/api/v1';

/**
 * docs/contract.md section 9 (security groups) as HTTP tests, for any backend: the same suite runs
 * on the memory backend in `npm test` and against the local cloud in `npm run test:openstack`.
 */
export function describeSecurityGroupContract(label: string, makeTarget: () => Promise<ContractTarget>, options: SecurityGroupContractOptions = {}): void {
  describe(`security group contract (${label})`, () => {
    let target: ContractTarget;
    let api: ApiClient;
    const prefix = `sg-${randomBytes(3).toString('hex')}`;
    let counter = 0;
    const groups: string[] = [];
    const vms: string[] = [];
    const nextName = () => `${prefix}-${++counter}`;

    const newGroup = async (body: Record<string, unknown> = {}): Promise<Group> => {
      const response = await api.call<Group>('POST', `${BASE}/security-groups`, { body: { name: nextName(), ...body } });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      groups.push(response.body.id);
      return response.body;
    };
    const newVm = async (body: Record<string, unknown> = {}): Promise<VmBody & { security_groups: string[] }> => {
      const vm = await api.createSettled({ name: nextName(), flavor: target.flavors.small, image: target.image, ...body });
      vms.push(vm.id);
      return vm as VmBody & { security_groups: string[] };
    };
    const problem = async (method: string, path: string, body?: unknown) =>
      api.call<ProblemBody>(method, `${BASE}${path}`, body === undefined ? {} : { body });

    beforeAll(async () => {
      target = await makeTarget();
      api = new ApiClient(target.baseUrl, target.headers);
    });

    /**
     * Every test leaves no group or VM behind: the quota is 10 groups (on OpenStack the project's,
     * shared by every tenant and the project's own `default`).
     */
    afterEach(async () => {
      const made = vms.splice(0);
      await Promise.all(made.map((id) => api.deleteVm(id)));
      await Promise.all(made.map((id) => api.settled(id).catch(() => undefined)));
      // A group goes once no port uses it: on OpenStack the deleted servers' ports go a moment later.
      for (const id of groups.splice(0)) {
        for (let attempt = 0; attempt < 40; attempt++) {
          const response = await api.call('DELETE', `${BASE}/security-groups/${id}`);
          if (response.status !== 409) break;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    });

    afterAll(async () => {
      if (target) await target.close();
    });

    describe('groups', () => {
      it('gives every tenant a default group that allows all egress and no ingress, listed and found by name', async () => {
        const list = await api.call<{ data: Group[] }>('GET', `${BASE}/security-groups`);
        expect(list.status).toBe(200);
        const defaults = list.body.data.filter((g) => g.name === 'default');
        expect(defaults).toHaveLength(1);
        const byName = await api.call<Group>('GET', `${BASE}/security-groups/default`);
        expect(byName.status).toBe(200);
        expect(byName.body.id).toBe(defaults[0]?.id);
        expect(withoutIds(byName.body.rules)).toEqual(egressPair);
        expect(SecurityGroupSchema.safeParse(byName.body).success).toBe(true);
      });

      it('creates a group (201, Location) with the allow-all egress pair, found by id and by name', async () => {
        const name = nextName();
        const response = await api.call<Group>('POST', `${BASE}/security-groups`, { body: { name, description: 'web tier' } });
        expect(response.status).toBe(201);
        groups.push(response.body.id);
        expect(response.headers.get('location')).toBe(`${BASE}/security-groups/${response.body.id}`);
        expect(response.body).toMatchObject({ name, description: 'web tier' });
        expect(withoutIds(response.body.rules)).toEqual(egressPair);
        expect(SecurityGroupSchema.safeParse(response.body).success).toBe(true);
        expect((await api.call<Group>('GET', `${BASE}/security-groups/${response.body.id}`)).body.name).toBe(name);
        expect((await api.call<Group>('GET', `${BASE}/security-groups/${name}`)).body.id).toBe(response.body.id);
        const list = await api.call<{ data: Group[] }>('GET', `${BASE}/security-groups`);
        expect(list.body.data.map((g) => g.id)).toContain(response.body.id);
      });

      it('refuses a name the tenant has already, `default` in any case, and a name that is a UUID', async () => {
        const group = await newGroup();
        const taken = await problem('POST', '/security-groups', { name: group.name });
        expect([taken.status, taken.body.code]).toEqual([409, 'SECURITY_GROUP_NAME_TAKEN']);
        for (const name of ['default', 'Default']) {
          const reserved = await problem('POST', '/security-groups', { name });
          expect([reserved.status, reserved.body.code]).toEqual([409, 'SECURITY_GROUP_NAME_TAKEN']);
        }
        const uuid = await problem('POST', '/security-groups', { name: '6a1f0e3c-2b4d-4c8e-9f7a-1d2e3f4a5b6c' });
        expect([uuid.status, uuid.body.code, uuid.body.errors?.[0]?.path]).toEqual([400, 'VALIDATION_ERROR', 'body.name']);
      });

      it('answers 404 for an unknown id or name', async () => {
        for (const ref of ['6a1f0e3c-2b4d-4c8e-9f7a-1d2e3f4a5b6c', `${prefix}-nothing`]) {
          const response = await problem('GET', `/security-groups/${ref}`);
          expect([response.status, response.body.code]).toEqual([404, 'SECURITY_GROUP_NOT_FOUND']);
        }
      });

      it('renames a group and changes its description; the default group keeps its name', async () => {
        const group = await newGroup();
        const name = nextName();
        const renamed = await api.call<Group>('PATCH', `${BASE}/security-groups/${group.id}`, { body: { name, description: 'renamed' } });
        expect(renamed.status).toBe(200);
        expect(renamed.body).toMatchObject({ id: group.id, name, description: 'renamed' });
        expect((await api.call<Group>('GET', `${BASE}/security-groups/${name}`)).body.id).toBe(group.id);
        const other = await newGroup();
        const clash = await problem('PATCH', `/security-groups/${other.id}`, { name });
        expect([clash.status, clash.body.code]).toEqual([409, 'SECURITY_GROUP_NAME_TAKEN']);
        const toDefault = await problem('PATCH', `/security-groups/${other.id}`, { name: 'default' });
        expect([toDefault.status, toDefault.body.code]).toEqual([409, 'SECURITY_GROUP_NAME_TAKEN']);
        const ofDefault = await problem('PATCH', '/security-groups/default', { name: nextName() });
        expect([ofDefault.status, ofDefault.body.code]).toEqual([409, 'DEFAULT_SECURITY_GROUP']);
        const described = await api.call<Group>('PATCH', `${BASE}/security-groups/default`, { body: { description: 'ours' } });
        expect([described.status, described.body.name, described.body.description]).toEqual([200, 'default', 'ours']);
      });

      it('deletes a group (200, then 404), never the default one (409)', async () => {
        const group = await newGroup();
        const deleted = await api.call<Group>('DELETE', `${BASE}/security-groups/${group.id}`);
        expect([deleted.status, deleted.body.id]).toEqual([200, group.id]);
        const again = await problem('DELETE', `/security-groups/${group.id}`);
        expect([again.status, again.body.code]).toEqual([404, 'SECURITY_GROUP_NOT_FOUND']);
        const ofDefault = await problem('DELETE', '/security-groups/default');
        expect([ofDefault.status, ofDefault.body.code]).toEqual([409, 'DEFAULT_SECURITY_GROUP']);
      });
    });

    describe('rules', () => {
      it('adds a rule (201) that the group then shows; one port alone is a single port', async () => {
        const group = await newGroup();
        const response = await api.call<Rule>('POST', `${BASE}/security-groups/${group.id}/rules`, {
          body: { direction: 'ingress', protocol: 'tcp', port_min: 22, remote_cidr: '10.0.0.0/8' },
        });
        expect(response.status).toBe(201);
        expect(response.body).toMatchObject({ direction: 'ingress', protocol: 'tcp', port_min: 22, port_max: 22, remote_cidr: '10.0.0.0/8', ethertype: 'IPv4' });
        expect(SecurityGroupRuleSchema.safeParse(response.body).success).toBe(true);
        const v6 = await api.call<Rule>('POST', `${BASE}/security-groups/${group.name}/rules`, {
          body: { direction: 'ingress', protocol: 'udp', port_min: 5000, port_max: 5010, remote_cidr: '2001:db8::/32' },
        });
        expect([v6.status, v6.body.ethertype, v6.body.remote_cidr]).toEqual([201, 'IPv6', '2001:db8::/32']);
        const icmp = await api.call<Rule>('POST', `${BASE}/security-groups/${group.id}/rules`, { body: { direction: 'ingress', protocol: 'icmp' } });
        expect([icmp.status, icmp.body.protocol, icmp.body.port_min]).toEqual([201, 'icmp', null]);
        const shown = (await api.call<Group>('GET', `${BASE}/security-groups/${group.id}`)).body;
        expect(shown.rules.map((r) => r.id)).toEqual(expect.arrayContaining([response.body.id, v6.body.id, icmp.body.id]));
        expect(shown.rules).toHaveLength(5);
      });

      it('refuses a duplicate rule with 409 RULE_EXISTS', async () => {
        const group = await newGroup();
        const rule = { direction: 'ingress', protocol: 'tcp', port_min: 80, port_max: 80, remote_cidr: '192.168.0.0/16' };
        expect((await api.call('POST', `${BASE}/security-groups/${group.id}/rules`, { body: rule })).status).toBe(201);
        const again = await problem('POST', `/security-groups/${group.id}/rules`, rule);
        expect([again.status, again.body.code]).toEqual([409, 'RULE_EXISTS']);
        const egress = await problem('POST', `/security-groups/${group.id}/rules`, { direction: 'egress' });
        expect([egress.status, egress.body.code]).toEqual([409, 'RULE_EXISTS']);
        // A /0 is anywhere: the same rule as the egress pair's.
        const everywhere = await problem('POST', `/security-groups/${group.id}/rules`, { direction: 'egress', remote_cidr: '::/0' });
        expect([everywhere.status, everywhere.body.code]).toEqual([409, 'RULE_EXISTS']);
        const anywhereIn = await api.call<Rule>('POST', `${BASE}/security-groups/${group.id}/rules`, { body: { direction: 'ingress', protocol: 'icmp', remote_cidr: '0.0.0.0/0' } });
        expect([anywhereIn.status, anywhereIn.body.remote_cidr, anywhereIn.body.ethertype]).toEqual([201, null, 'IPv4']);
      });

      const badRules: { why: string; body: Record<string, unknown>; path: string }[] = [
        { why: 'a port below 1', body: { direction: 'ingress', protocol: 'tcp', port_min: 0, port_max: 10 }, path: 'body.port_min' },
        { why: 'a port above 65535', body: { direction: 'ingress', protocol: 'udp', port_min: 1, port_max: 65536 }, path: 'body.port_max' },
        { why: 'port_min above port_max', body: { direction: 'ingress', protocol: 'tcp', port_min: 90, port_max: 80 }, path: 'body.port_min' },
        { why: 'ports with icmp', body: { direction: 'ingress', protocol: 'icmp', port_min: 8 }, path: 'body.port_min' },
        { why: 'ports with any protocol', body: { direction: 'ingress', port_max: 22 }, path: 'body.port_max' },
        { why: 'a remote that is no prefix', body: { direction: 'ingress', remote_cidr: '10.0.0.300/8' }, path: 'body.remote_cidr' },
        { why: 'a remote with host bits set', body: { direction: 'ingress', remote_cidr: '10.1.2.3/8' }, path: 'body.remote_cidr' },
        { why: 'an ethertype that is not the remote\'s', body: { direction: 'ingress', remote_cidr: '2001:db8::/32', ethertype: 'IPv4' }, path: 'body.ethertype' },
        { why: 'an unknown direction', body: { direction: 'sideways' }, path: 'body.direction' },
        { why: 'an unknown field', body: { direction: 'ingress', port: 22 }, path: 'body.port' },
      ];
      for (const { why, body, path } of badRules) {
        it(`refuses ${why} with 400 naming ${path}, and adds nothing`, async () => {
          const response = await problem('POST', '/security-groups/default/rules', body);
          expect([response.status, response.body.code]).toEqual([400, 'VALIDATION_ERROR']);
          expect(response.body.errors?.map((e) => e.path)).toContain(path);
          expect(withoutIds((await api.call<Group>('GET', `${BASE}/security-groups/default`)).body.rules)).toEqual(egressPair);
        });
      }

      it('deletes a rule (200, the group without it), then 404 RULE_NOT_FOUND', async () => {
        const group = await newGroup();
        const rule = (await api.call<Rule>('POST', `${BASE}/security-groups/${group.id}/rules`, { body: { direction: 'ingress', protocol: 'tcp', port_min: 443 } })).body;
        const deleted = await api.call<Group>('DELETE', `${BASE}/security-groups/${group.id}/rules/${rule.id}`);
        expect(deleted.status).toBe(200);
        expect(deleted.body.rules.map((r) => r.id)).not.toContain(rule.id);
        expect((await api.call<Group>('GET', `${BASE}/security-groups/${group.id}`)).body.rules).toHaveLength(2);
        const again = await problem('DELETE', `/security-groups/${group.id}/rules/${rule.id}`);
        expect([again.status, again.body.code]).toEqual([404, 'RULE_NOT_FOUND']);
      });
    });

    describe('on VMs', () => {
      it('gives a new VM the default group unless the create names others, by name or id', async () => {
        const plain = await newVm();
        expect(plain.security_groups).toEqual(['default']);
        expect(VmSchema.safeParse({ ...plain, allowed_actions: [] }).success).toBe(true);
        const group = await newGroup();
        const two = await newVm({ security_groups: [group.id, 'default'] });
        expect([...two.security_groups].sort()).toEqual([group.name, 'default'].sort());
        expect([...((await api.getVm(two.id)).body as VmBody & { security_groups: string[] }).security_groups].sort()).toEqual([group.name, 'default'].sort());
      });

      it('refuses a create naming an unknown group with 400, and leaves no VM behind', async () => {
        const name = nextName();
        const response = await api.call<ProblemBody>('POST', `${BASE}/vms`, {
          body: { name, flavor: target.flavors.small, image: target.image, security_groups: ['default', `${prefix}-missing`] },
        });
        expect([response.status, response.body.code, response.body.errors?.[0]?.path]).toEqual([400, 'UNKNOWN_SECURITY_GROUP', 'body.security_groups.1']);
        const list = await api.call<{ data: VmBody[] }>('GET', `${BASE}/vms?name=${name}`);
        expect(list.body.data).toEqual([]);
      });

      it('attaches (200, then 409 ALREADY_ATTACHED) and detaches (200, then 404) a group; a group in use cannot be deleted', async () => {
        const vm = await newVm();
        const group = await newGroup();
        const attached = await api.call<VmBody & { security_groups: string[] }>('POST', `${BASE}/vms/${vm.id}/security-groups`, { body: { security_group: group.name } });
        expect(attached.status).toBe(200);
        expect([...attached.body.security_groups].sort()).toEqual([group.name, 'default'].sort());
        const again = await problem('POST', `/vms/${vm.id}/security-groups`, { security_group: group.id });
        expect([again.status, again.body.code]).toEqual([409, 'ALREADY_ATTACHED']);
        const inUse = await problem('DELETE', `/security-groups/${group.id}`);
        expect([inUse.status, inUse.body.code]).toEqual([409, 'RESOURCE_IN_USE']);
        const detached = await api.call<VmBody & { security_groups: string[] }>('DELETE', `${BASE}/vms/${vm.id}/security-groups/${group.id}`);
        expect([detached.status, detached.body.security_groups]).toEqual([200, ['default']]);
        const notAttached = await problem('DELETE', `/vms/${vm.id}/security-groups/${group.name}`);
        expect([notAttached.status, notAttached.body.code]).toEqual([404, 'SECURITY_GROUP_NOT_FOUND']);
        expect((await api.call('DELETE', `${BASE}/security-groups/${group.id}`)).status).toBe(200);
      });

      it('answers an unknown group in an attach body with 400, and an unknown VM with 404', async () => {
        const vm = await newVm();
        const unknown = await problem('POST', `/vms/${vm.id}/security-groups`, { security_group: `${prefix}-missing` });
        expect([unknown.status, unknown.body.code, unknown.body.errors?.[0]?.path]).toEqual([400, 'UNKNOWN_SECURITY_GROUP', 'body.security_group']);
        const noVm = await problem('POST', '/vms/6a1f0e3c-2b4d-4c8e-9f7a-1d2e3f4a5b6c/security-groups', { security_group: 'default' });
        expect([noVm.status, noVm.body.code]).toEqual([404, 'VM_NOT_FOUND']);
        const noGroup = await problem('DELETE', `/vms/${vm.id}/security-groups/${prefix}-missing`);
        expect([noGroup.status, noGroup.body.code]).toEqual([404, 'SECURITY_GROUP_NOT_FOUND']);
      });

      it('shows a group\'s new name on the VMs that have it', async () => {
        const group = await newGroup();
        const vm = await newVm({ security_groups: [group.id] });
        const name = nextName();
        expect((await api.call('PATCH', `${BASE}/security-groups/${group.id}`, { body: { name } })).status).toBe(200);
        // OpenStack shares a VM's reads for a moment (readReuseMs): the new name shows within it.
        const shown = await waitFor(
          async () => ((await api.getVm(vm.id)).body as VmBody & { security_groups: string[] }).security_groups,
          (groups) => groups[0] === name,
          { timeoutMs: 5_000, intervalMs: 50 },
        );
        expect(shown).toEqual([name]);
      });
    });

    if (options.quotas) {
      it('refuses a group over the tenant\'s quota of 10 (its default included) with 403 QUOTA_EXCEEDED', async () => {
        const list = await api.call<{ data: Group[] }>('GET', `${BASE}/security-groups`);
        const filling: string[] = [];
        for (let held = list.body.data.length; held < 10; held++) filling.push((await newGroup()).id);
        expect(filling.length).toBeGreaterThan(0);
        const over = await problem('POST', '/security-groups', { name: nextName() });
        expect([over.status, over.body.code]).toEqual([403, 'QUOTA_EXCEEDED']);
        // Room again once they go, for this test and the ones after it.
        const last = filling.pop() as string;
        expect((await api.call('DELETE', `${BASE}/security-groups/${last}`)).status).toBe(200);
        await newGroup();
      });
    }

    if (options.twoTenants) {
      describe('between tenants', () => {
        it('gives each tenant its own default; another tenant\'s group is a 404 by id and unknown in a body', async () => {
          const other = new ApiClient(target.baseUrl, target.otherTenant);
          const mine = await newGroup();
          const theirDefault = await other.call<Group>('GET', `${BASE}/security-groups/default`);
          const myDefault = await api.call<Group>('GET', `${BASE}/security-groups/default`);
          expect(theirDefault.status).toBe(200);
          expect(theirDefault.body.id).not.toBe(myDefault.body.id);
          const byId = await other.call<ProblemBody>('GET', `${BASE}/security-groups/${mine.id}`);
          expect([byId.status, byId.body.code]).toEqual([404, 'SECURITY_GROUP_NOT_FOUND']);
          const byName = await other.call<ProblemBody>('GET', `${BASE}/security-groups/${mine.name}`);
          expect(byName.status).toBe(404);
          const theirList = await other.call<{ data: Group[] }>('GET', `${BASE}/security-groups`);
          expect(theirList.body.data.map((g) => g.id)).not.toContain(mine.id);
          for (const [method, path] of [['DELETE', `/security-groups/${mine.id}`], ['PATCH', `/security-groups/${mine.id}`], ['POST', `/security-groups/${mine.id}/rules`]] as const) {
            const body = method === 'PATCH' ? { description: 'x' } : method === 'POST' ? { direction: 'ingress' } : undefined;
            const response = await other.call<ProblemBody>(method, `${BASE}${path}`, body === undefined ? {} : { body });
            expect([response.status, response.body.code]).toEqual([404, 'SECURITY_GROUP_NOT_FOUND']);
          }
          const vm = await other.createVm({ name: nextName(), flavor: target.flavors.small, image: target.image, security_groups: [mine.id] });
          expect([vm.status, (vm.body as unknown as ProblemBody).code]).toEqual([400, 'UNKNOWN_SECURITY_GROUP']);
        });
      });
    }
  });
}
