import { z } from 'zod';

/** A Keystone v3 user (never its password: Keystone does not show it). */
export const userSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  domain_id: z.string().optional(),
  default_project_id: z.string().nullish(),
});

export type User = z.infer<typeof userSchema>;

export const userResponseSchema = z.object({ user: userSchema });
export const userListResponseSchema = z.object({ users: z.array(userSchema) });

export const roleSchema = z.looseObject({ id: z.string(), name: z.string() });
export type Role = z.infer<typeof roleSchema>;
export const roleResponseSchema = z.object({ role: roleSchema });
export const roleListResponseSchema = z.object({ roles: z.array(roleSchema) });

export const userPaths = {
  users: '/users',
  user: (id: string) => `/users/${encodeURIComponent(id)}`,
  roles: '/roles',
  projectUserRole: (projectId: string, userId: string, roleId: string) =>
    `/projects/${encodeURIComponent(projectId)}/users/${encodeURIComponent(userId)}/roles/${encodeURIComponent(roleId)}`,
};
