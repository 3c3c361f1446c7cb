import { z } from 'zod';

/** Keystone v3 password auth, scoped to one project. */
export interface PasswordAuth {
  type: 'password';
  authUrl: string;
  /** One of username (with a user domain) or userId. */
  username?: string;
  userId?: string;
  password: string;
  /** Defaults to the domain named "Default" when neither name nor id is given, as openrc files assume. */
  userDomainName?: string;
  userDomainId?: string;
  /** One of projectName (with a project domain) or projectId. */
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
}

/** Keystone v3 application credential auth: the credential carries its own project scope. */
export interface ApplicationCredentialAuth {
  type: 'applicationCredential';
  authUrl: string;
  applicationCredentialId: string;
  applicationCredentialSecret: string;
}

export type AuthOptions = PasswordAuth | ApplicationCredentialAuth;

/** clouds.yaml and openrc files give the auth URL with or without /v3. */
export function identityV3Url(authUrl: string): string {
  const trimmed = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

/** Returns a description of what is missing, or undefined when the options can authenticate. */
export function authOptionsProblem(auth: AuthOptions): string | undefined {
  if (!URL.canParse(auth.authUrl)) return `auth URL "${auth.authUrl}" is not a URL`;
  if (auth.type === 'applicationCredential') {
    if (!auth.applicationCredentialId || !auth.applicationCredentialSecret) {
      return 'application credential auth needs an id and a secret';
    }
    return undefined;
  }
  if (!auth.username && !auth.userId) return 'password auth needs a username or a user id';
  if (!auth.password) return 'password auth needs a password';
  if (!auth.projectName && !auth.projectId) return 'password auth needs a project name or a project id';
  return undefined;
}

function domain(name: string | undefined, id: string | undefined): { id: string } | { name: string } {
  if (id) return { id };
  return { name: name || 'Default' };
}

/** The body of POST /v3/auth/tokens. */
export function authRequestBody(auth: AuthOptions): unknown {
  if (auth.type === 'applicationCredential') {
    return {
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: auth.applicationCredentialId, secret: auth.applicationCredentialSecret },
        },
      },
    };
  }
  const user = auth.userId
    ? { id: auth.userId, password: auth.password }
    : { name: auth.username, domain: domain(auth.userDomainName, auth.userDomainId), password: auth.password };
  const project = auth.projectId
    ? { id: auth.projectId }
    : { name: auth.projectName, domain: domain(auth.projectDomainName, auth.projectDomainId) };
  return { auth: { identity: { methods: ['password'], password: { user } }, scope: { project } } };
}

const timestamp = z.string().refine((value) => Number.isFinite(Date.parse(value)), { error: 'not a timestamp' });

export const catalogEndpointSchema = z.looseObject({
  interface: z.string(),
  region: z.string().nullish(),
  region_id: z.string().nullish(),
  url: z.string(),
});

export const catalogEntrySchema = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  endpoints: z.array(catalogEndpointSchema),
});

export type CatalogEntry = z.infer<typeof catalogEntrySchema>;

/** The answer to POST /v3/auth/tokens (the token itself is in the X-Subject-Token header). */
export const tokenResponseSchema = z.object({
  token: z.looseObject({
    expires_at: timestamp,
    issued_at: timestamp.optional(),
    methods: z.array(z.string()).optional(),
    // Absent from unscoped tokens; a scoped token without it cannot reach any service.
    catalog: z.array(catalogEntrySchema).optional(),
    project: z.looseObject({ id: z.string(), name: z.string().optional() }).optional(),
    user: z.looseObject({ id: z.string(), name: z.string().optional(), domain: z.looseObject({ id: z.string() }).optional() }),
    /** The roles the token carries in its project (an application credential's: only its own). */
    roles: z.array(z.looseObject({ name: z.string() })).optional(),
    /** Present when the token was made from an application credential. */
    application_credential: z.looseObject({ id: z.string(), name: z.string().optional() }).optional(),
  }),
});
