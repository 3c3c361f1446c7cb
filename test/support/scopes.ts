import type { Scope } from '../../src/domain/tenancy.js';

/** A member of the default tenant: what every caller is with AUTH_MODE=none. */
export const memberScope: Scope = { tenant: 'default', keyId: null, role: 'member', requestId: 'req-test' };

export const scopeOf = (tenant: string, role: Scope['role'] = 'member'): Scope => ({ tenant, keyId: `key-${tenant}`, role, requestId: 'req-test' });
