import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { Connection, type ConnectionOptions, type EndpointInterface } from './connection.js';
import { OpenStackConfigError } from './errors.js';
import type { AuthOptions } from './identity/tokens.js';

export interface CloudsYamlLookup {
  /** Default process.env: OS_CLIENT_CONFIG_FILE, OS_CLIENT_SECURE_FILE, XDG_CONFIG_HOME. */
  env?: Record<string, string | undefined>;
  /** Default process.cwd(). */
  cwd?: string;
  /** Default os.homedir(). */
  homeDir?: string;
  /** Default /etc/openstack. */
  siteConfigDir?: string;
}

/** What a clouds.yaml entry contributes to ConnectionOptions. */
export interface CloudConfig {
  auth: AuthOptions;
  regionName?: string;
  interface?: EndpointInterface;
  computeMicroversion?: string;
  /** The clouds.yaml the cloud was read from. */
  sourceFile: string;
}

const suffixes = ['.yaml', '.yml', '.json'];

/**
 * The files the openstack CLI (openstack.config.loader) reads, in its order: the first that exists
 * wins. OS_CLIENT_CONFIG_FILE / OS_CLIENT_SECURE_FILE go first, then the working directory, the
 * user's config directory, and /etc/openstack.
 */
export function cloudsYamlSearchPaths(lookup: CloudsYamlLookup = {}): { clouds: string[]; secure: string[] } {
  const env = lookup.env ?? process.env;
  const userConfig = join(env['XDG_CONFIG_HOME'] || join(lookup.homeDir ?? homedir(), '.config'), 'openstack');
  const dirs = [lookup.cwd ?? process.cwd(), userConfig, lookup.siteConfigDir ?? '/etc/openstack'];
  const inDirs = (base: string) => dirs.flatMap((dir) => suffixes.map((suffix) => join(dir, base + suffix)));
  const withOverride = (name: string | undefined, files: string[]) => (name ? [name, ...files] : files);
  return {
    clouds: withOverride(env['OS_CLIENT_CONFIG_FILE'], inDirs('clouds')),
    secure: withOverride(env['OS_CLIENT_SECURE_FILE'], inDirs('secure')),
  };
}

// YAML may read a numeric password or project id as a number.
const text = z.union([z.string(), z.number()]).transform(String);

const cloudSchema = z.looseObject({
  auth_type: z.string().optional(),
  auth: z
    .looseObject({
      auth_url: text.optional(),
      username: text.optional(),
      user_id: text.optional(),
      password: text.optional(),
      user_domain_name: text.optional(),
      user_domain_id: text.optional(),
      project_name: text.optional(),
      project_id: text.optional(),
      project_domain_name: text.optional(),
      project_domain_id: text.optional(),
      application_credential_id: text.optional(),
      application_credential_secret: text.optional(),
    })
    .default({}),
  region_name: text.optional(),
  interface: text.optional(),
  compute_api_version: text.optional(),
});

const cloudsFileSchema = z.looseObject({ clouds: z.record(z.string(), z.unknown()).default({}) });

async function readFirst(files: readonly string[]): Promise<{ file: string; content: string } | undefined> {
  for (const file of files) {
    try {
      return { file, content: await readFile(file, 'utf8') };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new OpenStackConfigError(`cannot read ${file}: ${(err as Error).message}`);
      }
    }
  }
  return undefined;
}

function parseCloudsFile(file: string, content: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = parseYaml(content);
  } catch (err) {
    throw new OpenStackConfigError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = cloudsFileSchema.safeParse(data ?? {});
  if (!parsed.success) throw new OpenStackConfigError(`${file} has no "clouds" mapping`);
  return parsed.data.clouds;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** secure.yaml holds the same structure with only the secrets; its values win. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isRecord(base) || !isRecord(over)) return over === undefined ? base : over;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) merged[key] = deepMerge(base[key], value);
  return merged;
}

const interfaces: readonly string[] = ['public', 'internal', 'admin'];

/** Reads cloud `name` from clouds.yaml (and secure.yaml) the way the openstack CLI finds them. */
export async function loadCloudConfig(name: string, lookup: CloudsYamlLookup = {}): Promise<CloudConfig> {
  const paths = cloudsYamlSearchPaths(lookup);
  const found = await readFirst(paths.clouds);
  if (found === undefined) {
    throw new OpenStackConfigError(`cloud "${name}" not found: no clouds.yaml in ${paths.clouds.join(', ')}`);
  }
  const clouds = parseCloudsFile(found.file, found.content);
  const secureFound = await readFirst(paths.secure);
  const secureClouds = secureFound === undefined ? {} : parseCloudsFile(secureFound.file, secureFound.content);
  if (!(name in clouds)) {
    const known = Object.keys(clouds);
    throw new OpenStackConfigError(
      `cloud "${name}" not found in ${found.file} (it has: ${known.length > 0 ? known.join(', ') : 'no clouds'})`,
    );
  }
  const parsed = cloudSchema.safeParse(deepMerge(clouds[name], secureClouds[name]));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OpenStackConfigError(`cloud "${name}" in ${found.file}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const cloud = parsed.data;
  const where = `cloud "${name}" in ${found.file}`;
  const authUrl = cloud.auth.auth_url;
  if (authUrl === undefined) throw new OpenStackConfigError(`${where} has no auth.auth_url`);

  const auth: AuthOptions =
    cloud.auth_type === 'v3applicationcredential' || cloud.auth.application_credential_id !== undefined
      ? {
          type: 'applicationCredential',
          authUrl,
          applicationCredentialId: cloud.auth.application_credential_id ?? '',
          applicationCredentialSecret: cloud.auth.application_credential_secret ?? '',
        }
      : {
          type: 'password',
          authUrl,
          username: cloud.auth.username,
          userId: cloud.auth.user_id,
          password: cloud.auth.password ?? '',
          userDomainName: cloud.auth.user_domain_name,
          userDomainId: cloud.auth.user_domain_id,
          projectName: cloud.auth.project_name,
          projectId: cloud.auth.project_id,
          projectDomainName: cloud.auth.project_domain_name,
          projectDomainId: cloud.auth.project_domain_id,
        };

  // Older files say publicURL / internalURL, as the v2 catalog did.
  const iface = cloud.interface?.replace(/URL$/, '');
  if (iface !== undefined && !interfaces.includes(iface)) {
    throw new OpenStackConfigError(`${where}: interface "${cloud.interface}" is not public, internal or admin`);
  }
  return {
    auth,
    sourceFile: found.file,
    ...(cloud.region_name === undefined ? {} : { regionName: cloud.region_name }),
    ...(iface === undefined ? {} : { interface: iface as EndpointInterface }),
    ...(cloud.compute_api_version === undefined ? {} : { computeMicroversion: cloud.compute_api_version }),
  };
}

/**
 * A Connection for OS_CLOUD. `overrides` (timeouts, logger, or a region/interface/microversion given
 * elsewhere, e.g. in the environment) win over the file, as the CLI's own flags do.
 */
export async function connectionFromCloudsYaml(
  name: string,
  overrides: Omit<ConnectionOptions, 'auth'> = {},
  lookup: CloudsYamlLookup = {},
): Promise<Connection> {
  const { sourceFile: _sourceFile, ...fromFile } = await loadCloudConfig(name, lookup);
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return new Connection({ ...fromFile, ...given });
}
