import { ApiClient } from './api-client.js';

/**
 * Gives a running API target two tenants (AUTH_MODE=keys, made with the admin key): the contract
 * suites run as the first (`headers`) and probe isolation as the second (`otherTenant`).
 */
export async function withTwoTenants<T extends { baseUrl: string }>(
  target: T,
  adminKey: string,
  names: [string, string] = ['tenant-a', 'tenant-b'],
): Promise<T & { headers: Record<string, string>; otherTenant: Record<string, string> }> {
  const admin = new ApiClient(target.baseUrl, { authorization: `Bearer ${adminKey}` });
  const keyOf = async (name: string) => {
    const created = await admin.call<{ initial_key: { secret: string } }>('POST', '/api/v1/tenants', { body: { name } });
    if (created.status !== 201) throw new Error(`tenant ${name}: ${created.status} ${JSON.stringify(created.body)}`);
    return { authorization: `Bearer ${created.body.initial_key.secret}` };
  };
  return { ...target, headers: await keyOf(names[0]), otherTenant: await keyOf(names[1]) };
}
