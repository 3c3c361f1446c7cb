import { parseResource } from '../resource.js';
import type { CallOptions, ServiceCaller, ServiceRequest } from '../service.js';
import {
  applicationCredentialListResponseSchema,
  applicationCredentialPaths,
  applicationCredentialResponseSchema,
  createApplicationCredentialBody,
  type ApplicationCredential,
  type NewApplicationCredential,
} from './application-credentials.js';
import { createProjectBody, projectListResponseSchema, projectPaths, projectResponseSchema, type NewProject, type Project } from './projects.js';
import { identityV3Url } from './tokens.js';
import { roleListResponseSchema, roleResponseSchema, userListResponseSchema, userPaths, userResponseSchema, type Role, type User } from './users.js';

/**
 * Keystone v3 beyond tokens (those are the Connection's own): projects, users, roles and role
 * assignments, application credentials. Which token may call what is Keystone's policy
 * (scripts/openstack/README.md, "Keystone: the operator, tenants and application credentials").
 */
export class IdentityProxy {
  private readonly caller: ServiceCaller;

  constructor(caller: ServiceCaller) {
    this.caller = caller;
  }

  private async call(request: Omit<ServiceRequest, 'rebase'>, options: CallOptions | undefined): Promise<unknown> {
    // The catalog may list Keystone with or without /v3.
    const response = await this.caller.call('identity', { ...request, rebase: identityV3Url }, options);
    return response.body;
  }

  async createProject(input: NewProject, options?: CallOptions): Promise<Project> {
    const body = await this.call({ method: 'POST', path: projectPaths.projects, body: createProjectBody(input) }, options);
    return parseResource(projectResponseSchema, body, 'project').project;
  }

  async getProject(id: string, options?: CallOptions): Promise<Project> {
    const body = await this.call({ method: 'GET', path: projectPaths.project(id) }, options);
    return parseResource(projectResponseSchema, body, 'project').project;
  }

  /** Projects carrying every one of `tags`. */
  async listProjects(query: { tags?: string[]; name?: string }, options?: CallOptions): Promise<Project[]> {
    const body = await this.call({ method: 'GET', path: projectPaths.projects, query: { tags: query.tags?.join(','), name: query.name } }, options);
    return parseResource(projectListResponseSchema, body, 'project list').projects;
  }

  /** Its role assignments go with it. */
  async deleteProject(id: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: projectPaths.project(id) }, options);
  }

  async createUser(input: { name: string; domainId: string; password: string; defaultProjectId: string }, options?: CallOptions): Promise<User> {
    const user = { name: input.name, domain_id: input.domainId, password: input.password, default_project_id: input.defaultProjectId, enabled: true };
    const body = await this.call({ method: 'POST', path: userPaths.users, body: { user } }, options);
    return parseResource(userResponseSchema, body, 'user').user;
  }

  async findUsers(query: { name: string; domainId: string }, options?: CallOptions): Promise<User[]> {
    const body = await this.call({ method: 'GET', path: userPaths.users, query: { name: query.name, domain_id: query.domainId } }, options);
    return parseResource(userListResponseSchema, body, 'user list').users;
  }

  async setUserPassword(id: string, password: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'PATCH', path: userPaths.user(id), body: { user: { password } } }, options);
  }

  /** Deleting a user deletes its application credentials. */
  async deleteUser(id: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: userPaths.user(id) }, options);
  }

  async findRoles(name: string, options?: CallOptions): Promise<Role[]> {
    const body = await this.call({ method: 'GET', path: userPaths.roles, query: { name } }, options);
    return parseResource(roleListResponseSchema, body, 'role list').roles;
  }

  async createRole(name: string, options?: CallOptions): Promise<Role> {
    const body = await this.call({ method: 'POST', path: userPaths.roles, body: { role: { name } } }, options);
    return parseResource(roleResponseSchema, body, 'role').role;
  }

  /** Idempotent: assigning a role the user holds already is a 204 too. */
  async assignProjectRole(projectId: string, userId: string, roleId: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'PUT', path: userPaths.projectUserRole(projectId, userId, roleId) }, options);
  }

  /** Only with a token of the user itself (Keystone lets no one else, admins included). */
  async createApplicationCredential(userId: string, input: NewApplicationCredential, options?: CallOptions): Promise<ApplicationCredential> {
    const body = await this.call({ method: 'POST', path: applicationCredentialPaths.credentials(userId), body: createApplicationCredentialBody(input) }, options);
    return parseResource(applicationCredentialResponseSchema, body, 'application credential').application_credential;
  }

  async getApplicationCredential(userId: string, id: string, options?: CallOptions): Promise<ApplicationCredential> {
    const body = await this.call({ method: 'GET', path: applicationCredentialPaths.credential(userId, id) }, options);
    return parseResource(applicationCredentialResponseSchema, body, 'application credential').application_credential;
  }

  async listApplicationCredentials(userId: string, options?: CallOptions): Promise<ApplicationCredential[]> {
    const body = await this.call({ method: 'GET', path: applicationCredentialPaths.credentials(userId) }, options);
    return parseResource(applicationCredentialListResponseSchema, body, 'application credential list').application_credentials;
  }

  async deleteApplicationCredential(userId: string, id: string, options?: CallOptions): Promise<void> {
    await this.call({ method: 'DELETE', path: applicationCredentialPaths.credential(userId, id) }, options);
  }
}
