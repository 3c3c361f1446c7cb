import { DEFAULT_SECURITY_GROUP } from '../../domain/security-group.js';

/**
 * Neutron refuses a group named `default` from anyone but itself (SecurityGroupDefaultAlreadyExists:
 * the name is kept for the project's own default). A tenant's `default` is therefore a Neutron group
 * named this, tagged with the tenant; the API shows it as `default`.
 */
export const neutronDefaultGroupName = 'vmapi-default';

/** The name the API shows for a Neutron group's name. */
export function apiGroupName(neutronName: string): string {
  return neutronName === neutronDefaultGroupName ? DEFAULT_SECURITY_GROUP : neutronName;
}

/** The name to give (or look for in) Neutron for a name the API uses. */
export function neutronGroupName(apiName: string): string {
  return apiName === DEFAULT_SECURITY_GROUP ? neutronDefaultGroupName : apiName;
}
