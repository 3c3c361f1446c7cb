import type { Logger } from 'pino';
import { keyRevalidateSeconds, type Config } from '../../config/config.js';
import {
  Connection,
  OpenStackMicroversionError,
  compareMicroversions,
  connectionFromCloudsYaml,
  type AuthOptions,
  type ConnectionOptions,
} from '../../openstack/index.js';
import type { Backend, Readiness } from '../../repository/backend.js';
import { OpenStackCatalog } from './catalog.js';
import { MemoryTenantDirectory } from '../memory/tenant-directory.js';
import { KeystoneTenantDirectory } from './keystone-tenant-directory.js';
import { NetworkChoice } from './network.js';
import { OpenStackVolumeRepository } from './openstack-volume-repository.js';
import { OpenStackVmRepository } from './openstack-vm-repository.js';
import { OpenStackSecurityGroupRepository } from './openstack-security-group-repository.js';
import { OpenStackFloatingIpRepository, OpenStackNetworkRepository } from './openstack-network-repository.js';
import { ownProjectPlacement, sharedProjectPlacement } from './tenant-placement.js';
import type { Scope } from '../../domain/tenancy.js';

/** Tags at create time (2.52) are the newest feature the adapter relies on; 2.47 embeds the flavor. */
export const minimumComputeMicroversion = '2.52';

/** The OpenStack settings of the environment, as the client takes them (OS_CLOUD reads clouds.yaml). */
export async function connectionFromConfig(config: Config, logger: Logger): Promise<Connection> {
  const options: Omit<ConnectionOptions, 'auth'> = {
    interface: config.OS_INTERFACE,
    computeMicroversion: config.OS_COMPUTE_API_VERSION,
    timeoutMs: config.OS_TIMEOUT_MS,
    logger,
    ...(config.OS_REGION_NAME !== undefined && { regionName: config.OS_REGION_NAME }),
  };
  if (config.OS_CLOUD !== undefined) return connectionFromCloudsYaml(config.OS_CLOUD, options);
  return new Connection({ ...options, auth: authFromEnv(config) });
}

function authFromEnv(config: Config): AuthOptions {
  const authUrl = config.OS_AUTH_URL ?? '';
  if (config.OS_APPLICATION_CREDENTIAL_ID !== undefined) {
    return {
      type: 'applicationCredential',
      authUrl,
      applicationCredentialId: config.OS_APPLICATION_CREDENTIAL_ID,
      applicationCredentialSecret: config.OS_APPLICATION_CREDENTIAL_SECRET ?? '',
    };
  }
  return {
    type: 'password',
    authUrl,
    username: config.OS_USERNAME,
    password: config.OS_PASSWORD ?? '',
    userDomainName: config.OS_USER_DOMAIN_NAME,
    projectName: config.OS_PROJECT_NAME,
    projectId: config.OS_PROJECT_ID,
    projectDomainName: config.OS_PROJECT_DOMAIN_NAME,
  };
}

/**
 * Builds the OpenStack backend. The pinned microversion is checked against the cloud here: a
 * cloud too old for it is a start-up error. A cloud that cannot be reached yet is not (it may come
 * up after the API): /readyz reports it until it does.
 */
export async function createOpenStackBackend(config: Config, logger: Logger, connection?: Connection): Promise<Backend> {
  const log = logger.child({ backend: 'openstack' });
  if (compareMicroversions(config.OS_COMPUTE_API_VERSION, minimumComputeMicroversion) < 0) {
    throw new Error(`OS_COMPUTE_API_VERSION: ${config.OS_COMPUTE_API_VERSION} is older than ${minimumComputeMicroversion}, the oldest this API works with`);
  }
  const cloud = connection ?? (await connectionFromConfig(config, log));
  try {
    const range = await cloud.compute.assertMicroversionSupported();
    log.info({ event: 'openstack.connected', microversion: cloud.compute.microversion, cloud_range: range }, 'OpenStack compute API checked');
    await negotiateBlockStorage(cloud, log);
  } catch (err) {
    if (err instanceof OpenStackMicroversionError) throw new Error(`OS_COMPUTE_API_VERSION: ${err.message}`, { cause: err });
    log.warn({ event: 'openstack.unreachable_at_start', error: String(err) }, 'OpenStack not reachable at start-up; /readyz will say so');
  }
  const catalog = new OpenStackCatalog(cloud, config.OS_CATALOG_CACHE_S * 1000, log);
  const defaultNetwork = new NetworkChoice(cloud, config.OS_NETWORK);
  // Keystone holds tenants (projects) and keys (application credentials), and each tenant's
  // resources live in its own project; `process` keeps tenants in this process, as the memory
  // backend does, and every tenant's resources in the operator's project (credentials that are no
  // Keystone admin). tenant-placement.ts holds the difference.
  const keystone = config.OS_TENANTS === 'keystone' ? new KeystoneTenantDirectory({ operator: cloud, log, revalidateMs: keyRevalidateSeconds(config) * 1000 }) : undefined;
  const placement = keystone ? ownProjectPlacement(cloud, (keyId) => keystone.connectionOf(keyId)) : sharedProjectPlacement(cloud);
  const connectionFor = (scope: Scope) => placement.connectionFor(scope);
  const volumes = new OpenStackVolumeRepository({ connectionFor, log });
  const vms = new OpenStackVmRepository({ connection: cloud, placement, catalog, network: defaultNetwork, log, dataDisks: volumes });
  return {
    name: 'openstack',
    vms,
    catalog,
    tenants: keystone ?? new MemoryTenantDirectory(),
    securityGroups: new OpenStackSecurityGroupRepository({ connectionFor, log }),
    networks: new OpenStackNetworkRepository({ connectionFor, defaultNetwork, log, onChange: () => catalog.forgetNetworks() }),
    floatingIps: new OpenStackFloatingIpRepository({ connectionFor, log }),
    volumes,
    checkReady: () => readiness(cloud),
    async close() {
      vms.close();
      volumes.close();
    },
  };
}

/** Settles Cinder's microversion; a cloud without Cinder (or too old) still serves VMs, and volume calls then fail as the cloud answers. */
async function negotiateBlockStorage(cloud: Connection, log: Logger): Promise<void> {
  try {
    const microversion = await cloud.blockStorage.negotiate();
    log.info({ event: 'openstack.block_storage_negotiated', microversion }, 'OpenStack block-storage API checked');
  } catch (err) {
    log.warn({ event: 'openstack.block_storage_unavailable', error: String(err) }, 'Cinder not usable at start-up; volume calls will fail');
  }
}

/** Keystone (a token) and Nova (its version document), each a check with a detail. */
async function readiness(cloud: Connection): Promise<Readiness> {
  const check = async (name: string, probe: () => Promise<string>) => {
    try {
      return { name, ok: true, detail: await probe() };
    } catch (err) {
      return { name, ok: false, detail: describe(err) };
    }
  };
  const keystone = await check('keystone', async () => {
    await cloud.authenticate();
    return 'token issued';
  });
  const nova = keystone.ok
    ? await check('nova', async () => {
        const range = await cloud.compute.getMicroversionRange();
        return `microversions ${range.min} to ${range.max}`;
      })
    : { name: 'nova', ok: false, detail: 'not checked: no token' };
  return { ready: keystone.ok && nova.ok, checks: [keystone, nova] };
}

/** The error's class and, for timeouts and refused connections, what happened; no upstream text. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return 'failed';
  const status = 'status' in err && typeof err.status === 'number' ? ` ${err.status}` : '';
  const code = 'code' in err && typeof err.code === 'string' ? ` ${err.code}` : '';
  const timeout = 'timeoutMs' in err && typeof err.timeoutMs === 'number' ? ` after ${err.timeoutMs} ms` : '';
  return `${err.name}${status}${code}${timeout}`;
}
