export { Connection, defaultComputeMicroversion, type ConnectionOptions, type EndpointInterface, type TokenInfo } from './connection.js';
export {
  cloudsYamlSearchPaths,
  connectionFromCloudsYaml,
  loadCloudConfig,
  type CloudConfig,
  type CloudsYamlLookup,
} from './clouds-yaml.js';
export {
  OpenStackConfigError,
  OpenStackConnectionError,
  OpenStackEndpointNotFoundError,
  OpenStackError,
  OpenStackHttpError,
  OpenStackMicroversionError,
  OpenStackShapeError,
  OpenStackTimeoutError,
  parseUpstreamError,
  type UpstreamError,
} from './errors.js';
export type { ApplicationCredentialAuth, AuthOptions, PasswordAuth } from './identity/tokens.js';
export type { CallOptions, ServiceCaller, ServiceRequest } from './service.js';
export { Transport, toOpenStackRequestId, type HttpMethod, type TransportOptions, type TransportRequest, type TransportResponse } from './transport.js';
export { ComputeProxy, type ServerPage } from './compute/proxy.js';
export {
  isEmbeddedFlavor,
  serverSchema,
  type CreateServerOptions,
  type EmbeddedFlavor,
  type ListServersQuery,
  type Server,
  type ServerAction,
  type ServerNetworks,
} from './compute/servers.js';
export { flavorSchema, type Flavor } from './compute/flavors.js';
export { assertMicroversionInRange, compareMicroversions, type MicroversionRange } from './compute/versions.js';
export { IdentityProxy } from './identity/proxy.js';
export type { ApplicationCredential } from './identity/application-credentials.js';
export type { Project } from './identity/projects.js';
export { ImageProxy } from './image/proxy.js';
export { imageSchema, type Image, type ListImagesQuery } from './image/images.js';
export { NetworkProxy } from './network/proxy.js';
export { BlockStorageProxy, type VolumePage as CinderVolumePage } from './block-storage/proxy.js';
export { volumeSchema as cinderVolumeSchema, type CinderVolume } from './block-storage/volumes.js';
export { networkSchema, type ListNetworksQuery, type Network } from './network/networks.js';
export {
  securityGroupSchema,
  type CreateSecurityGroupRuleOptions,
  type ListSecurityGroupsQuery,
  type PortGroups,
  type SecurityGroup as NeutronSecurityGroup,
  type SecurityGroupRule as NeutronSecurityGroupRule,
} from './network/security-groups.js';
export type { Subnet } from './network/subnets.js';
export type { Router } from './network/routers.js';
export type { Port } from './network/ports.js';
export type { FloatingIp as NeutronFloatingIp } from './network/floating-ips.js';
