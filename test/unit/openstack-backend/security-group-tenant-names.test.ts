import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenStackSecurityGroupRepository } from '../../../src/backends/openstack/openstack-security-group-repository.js';
import { Connection } from '../../../src/openstack/connection.js';
import { scopeOf } from '../../support/scopes.js';
import { FakeNeutronSecurityGroups } from '../openstack/fake-neutron-security-groups.js';
import { capturingLogger, FakeOpenStack } from '../openstack/fake-openstack.js';

let fake: FakeOpenStack;
let neutron: FakeNeutronSecurityGroups;
let repo: OpenStackSecurityGroupRepository;

beforeEach(async () => {
  fake = await FakeOpenStack.start({ cloud: true });
  neutron = new FakeNeutronSecurityGroups(fake);
  const connection = new Connection({
    auth: { type: 'password', authUrl: fake.authUrl, username: 'demo', password: 'secret', projectName: 'demo' },
    timeoutMs: 2_000,
    backoffBaseMs: 5,
    maxAttempts: 1,
  });
  repo = new OpenStackSecurityGroupRepository({ connectionFor: () => connection, log: capturingLogger().logger });
});

afterEach(async () => {
  await fake.close();
});

describe('OpenStack security groups: what a tenant\'s delete asks', () => {
  it('names the tenant\'s own groups as the API shows them (its default as `default`), making none by asking', async () => {
    expect(await repo.tenantGroupNames('alice')).toEqual([]);
    expect(neutron.groups.size).toBe(0);
    await repo.create(scopeOf('alice'), { name: 'web', description: '' });
    await repo.create(scopeOf('bob'), { name: 'db', description: '' });
    expect((await repo.tenantGroupNames('alice')).sort()).toEqual(['default', 'web']);
    expect((await repo.tenantGroupNames('bob')).sort()).toEqual(['db', 'default']);
  });
});
