import { z } from 'zod';

/** A Keystone application credential; `secret` is only in the answer to its create. */
export const applicationCredentialSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.string().nullish(),
  project_id: z.string(),
  expires_at: z.string().nullish(),
  roles: z.array(z.looseObject({ name: z.string() })),
  unrestricted: z.boolean().optional(),
  secret: z.string().optional(),
});

export type ApplicationCredential = z.infer<typeof applicationCredentialSchema>;

export const applicationCredentialResponseSchema = z.object({ application_credential: applicationCredentialSchema });
export const applicationCredentialListResponseSchema = z.object({ application_credentials: z.array(applicationCredentialSchema) });

export interface NewApplicationCredential {
  name: string;
  description: string;
  /** Chosen by the caller, so its strength is ours to decide. */
  secret: string;
  roles: string[];
  /** ISO 8601, or null for none. */
  expiresAt: string | null;
}

export function createApplicationCredentialBody(input: NewApplicationCredential): unknown {
  return {
    application_credential: {
      name: input.name,
      description: input.description,
      secret: input.secret,
      roles: input.roles.map((name) => ({ name })),
      expires_at: input.expiresAt,
      // A token made from it may not make further credentials or trusts.
      unrestricted: false,
    },
  };
}

export const applicationCredentialPaths = {
  credentials: (userId: string) => `/users/${encodeURIComponent(userId)}/application_credentials`,
  credential: (userId: string, id: string) => `/users/${encodeURIComponent(userId)}/application_credentials/${encodeURIComponent(id)}`,
};
